//! Draws the screen state with ratatui: the `Services` window (prompt, levels and
//! filter, the two lists with a checkbox and the per-level state of each service, the
//! buttons), the key help on the last line, and the pop-up on top.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::state::{self, Focus, LevelState, Popup, ReviewButton, Row, Screen, Section};

/// Below this the window cannot hold its parts; a note says so instead.
pub(crate) const MIN_WIDTH: u16 = 50;
pub(crate) const MIN_HEIGHT: u16 = 12;

/// Width of one level's column (` on `, `off `, ` -  `).
const CELL: usize = 4;
const CHECKBOX: usize = 4;

const PROMPT: &str = "What services should be automatically started?";
const HELP: &str = " Space: toggle  Tab: next  F1: describe  Esc: cancel  type to filter";
const SHORT_HELP: &str = " Space toggle  Tab next  F1 describe  Esc cancel";
/// The name column is as wide as the longest name, within these bounds.
const NAME_MIN: usize = 16;

fn reversed() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

fn pending() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

/// Draws the whole screen into `buf` (the frame's buffer), keeping the list's scroll
/// position in `screen`.
pub(crate) fn draw(screen: &mut Screen, area: Rect, buf: &mut Buffer) {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let note = format!(
            "The window is too small for ntsysv ({}x{}); it needs {MIN_WIDTH}x{MIN_HEIGHT}.",
            area.width, area.height
        );
        let lines: Vec<Line> = wrap(&note, area.width as usize)
            .into_iter()
            .map(Line::raw)
            .collect();
        Paragraph::new(lines).render(area, buf);
        return;
    }
    let window = Rect {
        height: area.height - 1,
        ..area
    };
    let help = Rect {
        y: area.y + area.height - 1,
        height: 1,
        ..area
    };
    let keys = if (help.width as usize) < HELP.len() {
        SHORT_HELP
    } else {
        HELP
    };
    Line::styled(
        format!("{keys:<width$}", width = help.width as usize),
        reversed(),
    )
    .render(help, buf);
    let block = Block::bordered().title(Line::styled(" Services ", bold()).centered());
    let inner = block.inner(window);
    block.render(window, buf);
    let inner = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    let line = |n: u16| Rect {
        y: inner.y + n,
        height: 1,
        ..inner
    };
    Line::raw(PROMPT).render(line(0), buf);
    status_line(screen).render(line(1), buf);
    let name_width = name_width(screen, inner.width);
    level_header(screen, name_width).render(line(2), buf);
    let list = Rect {
        y: inner.y + 3,
        height: inner.height.saturating_sub(5),
        ..inner
    };
    draw_list(screen, list, name_width, buf);
    buttons(
        &[
            ("Ok", screen.focus() == Focus::Ok),
            (
                if screen.back { "Back" } else { "Cancel" },
                screen.focus() == Focus::Cancel,
            ),
        ],
        line(inner.height - 1),
        buf,
    );
    if let Some(popup) = screen.popup().cloned() {
        let (rows, shown) = draw_popup(&popup, area, buf);
        screen.review_rows = rows;
        screen.review_page = shown;
    }
}

/// `Runlevels edited: 2 3 4 5` and the filter (or how to start one).
fn status_line(screen: &Screen) -> Line<'static> {
    let mut spans = vec![
        Span::raw("Runlevels edited: "),
        Span::styled(screen.levels.words(), bold()),
        Span::raw("    "),
    ];
    if screen.filter().is_empty() {
        spans.push(Span::styled(
            "type to filter",
            Style::new().add_modifier(Modifier::DIM),
        ));
    } else {
        let shown = screen.visible().len();
        spans.push(Span::raw("Filter: "));
        spans.push(Span::styled(
            screen.filter().to_string(),
            Style::new().add_modifier(Modifier::UNDERLINED),
        ));
        spans.push(Span::raw(format!(
            "  ({shown} of {})",
            screen.entries().len()
        )));
    }
    Line::from(spans)
}

/// The name column: as wide as the longest name (at least [`NAME_MIN`]), as far as the
/// window allows.
fn name_width(screen: &Screen, width: u16) -> usize {
    let room = (width as usize).saturating_sub(CHECKBOX + 2 + 7 * CELL);
    let longest = screen
        .entries()
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(0);
    longest.max(NAME_MIN).min(room)
}

/// The levels over their columns, the edited ones marked; it stays in place while
/// the list scrolls.
fn level_header(screen: &Screen, name_width: usize) -> Line<'static> {
    let mut spans = vec![Span::raw(format!(
        "{:>width$} ",
        "runlevel",
        width = CHECKBOX + name_width
    ))];
    for lv in state::columns() {
        let style = if screen.levels.contains(lv) {
            bold().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        };
        spans.push(Span::styled(format!("{:^CELL$}", lv.as_char()), style));
    }
    Line::from(spans)
}

fn draw_list(screen: &mut Screen, area: Rect, name_width: usize, buf: &mut Buffer) {
    let rows = screen.rows();
    let height = area.height as usize;
    screen.page = height.saturating_sub(1).max(1);
    if rows.is_empty() {
        let text = if screen.filter().is_empty() {
            "No services.".to_string()
        } else {
            format!("No service name contains \"{}\".", screen.filter())
        };
        Line::raw(text).render(Rect { height: 1, ..area }, buf);
        return;
    }
    let cursor_row = screen
        .current()
        .and_then(|c| rows.iter().position(|r| *r == Row::Entry(c)))
        .unwrap_or(0);
    screen.offset = scroll_offset(screen.offset, cursor_row, height, &rows);
    for (n, row) in rows.iter().skip(screen.offset).take(height).enumerate() {
        let line = match row {
            Row::Section(section) => Line::styled(section.title(), bold()),
            Row::Entry(i) => {
                let under_cursor = screen.current() == Some(*i) && screen.focus() == Focus::List;
                entry_line(screen, *i, name_width, under_cursor)
            }
        };
        line.render(
            Rect {
                y: area.y + n as u16,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

/// The first row to show so that the cursor's row is on screen, moving as little as
/// possible; a section's title shows with its first entry.
fn scroll_offset(offset: usize, cursor: usize, height: usize, rows: &[Row]) -> usize {
    let height = height.max(1);
    let mut offset = offset.min(rows.len().saturating_sub(height));
    if cursor < offset {
        offset = cursor;
        if cursor > 0 && matches!(rows[cursor - 1], Row::Section(_)) {
            offset = cursor - 1;
        }
    } else if cursor >= offset + height {
        offset = cursor + 1 - height;
    }
    offset
}

/// Text from files as it may be shown: a control character (an escape sequence hidden
/// in a description or a file name) would be sent to the terminal as is.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
        .collect()
}

fn fit(name: &str, width: usize) -> String {
    let name = printable(name);
    if name.chars().count() <= width {
        format!("{name:<width$}")
    } else {
        let cut: String = name.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}~")
    }
}

fn entry_line(screen: &Screen, i: usize, name_width: usize, under_cursor: bool) -> Line<'static> {
    let entry = &screen.entries()[i];
    let mark = if entry.checked { '*' } else { ' ' };
    let base = if under_cursor {
        reversed()
    } else {
        Style::new()
    };
    let box_style = if entry.changed() {
        pending()
    } else {
        Style::new()
    };
    let mut spans = vec![
        Span::styled(format!("[{mark}]"), box_style.patch(base)),
        Span::styled(format!(" {} ", fit(&entry.name, name_width)), base),
    ];
    let cell = |state: LevelState| match state {
        LevelState::On => "on",
        LevelState::Off => "off",
        LevelState::Unlinked => "-",
    };
    let style_for = |lv| {
        if entry.changed() && screen.levels.contains(lv) {
            pending()
        } else {
            Style::new()
        }
    };
    match entry.section {
        Section::Sysv => {
            for lv in state::columns() {
                let text = cell(entry.state_in(lv, screen.levels));
                spans.push(Span::styled(format!("{text:^CELL$}"), style_for(lv)));
            }
        }
        Section::Xinetd => {
            let text = if entry.checked { "on" } else { "off" };
            let style = if entry.changed() {
                pending()
            } else {
                Style::new()
            };
            spans.push(Span::styled(text, style));
        }
    }
    Line::from(spans)
}

/// Buttons centred on one line, `[ label ]`, the focused one reversed.
fn buttons(labels: &[(&str, bool)], area: Rect, buf: &mut Buffer) {
    const GAP: &str = "      ";
    let mut spans = Vec::new();
    for (n, (label, focused)) in labels.iter().enumerate() {
        if n > 0 {
            spans.push(Span::raw(GAP));
        }
        let style = if *focused { reversed() } else { Style::new() };
        spans.push(Span::styled(format!("[ {label:^6} ]"), style));
    }
    Line::from(spans).centered().render(area, buf);
}

/// Greedy word wrap into lines of at most `width` characters (longer words cut).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let text = printable(&text.replace('\t', " "));
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(word.drain(..width).collect());
            }
            let word: String = word.into_iter().collect();
            let len = line.chars().count();
            if len > 0 && len + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

/// Draws a pop-up; returns how many text lines it has and how many are shown.
fn draw_popup(popup: &Popup, area: Rect, buf: &mut Buffer) -> (usize, usize) {
    let width = area.width.saturating_sub(8).min(72);
    let text_width = width.saturating_sub(4) as usize;
    let (title, lines, offset, labels): (&str, Vec<String>, usize, Vec<(&str, bool)>) = match popup
    {
        Popup::Describe { title, text } => (title, wrap(text, text_width), 0, vec![("Ok", true)]),
        Popup::Error { text } => ("Error", wrap(text, text_width), 0, vec![("Ok", true)]),
        Popup::Review {
            lines,
            offset,
            focus,
        } => (
            "Apply these changes?",
            lines
                .iter()
                .flat_map(|l| wrap_indented(l, text_width))
                .collect(),
            *offset,
            vec![
                ("Apply", *focus == ReviewButton::Apply),
                ("Back", *focus == ReviewButton::Back),
            ],
        ),
    };
    let max_text = area.height.saturating_sub(6).max(1) as usize;
    let shown = lines.len().clamp(1, max_text);
    let height = shown as u16 + 4;
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    };
    Clear.render(rect, buf);
    let title = format!(" {} ", printable(title));
    let mut block = Block::bordered().title(Line::styled(title, bold()).centered());
    let offset = offset.min(lines.len().saturating_sub(shown));
    if lines.len() > shown {
        block = block.title_bottom(
            Line::raw(format!(
                " {}-{} of {} ",
                offset + 1,
                offset + shown,
                lines.len()
            ))
            .right_aligned(),
        );
    }
    let inner = block.inner(rect);
    block.render(rect, buf);
    for (n, text) in lines.iter().skip(offset).take(shown).enumerate() {
        Line::raw(text.clone()).render(
            Rect {
                x: inner.x + 1,
                y: inner.y + n as u16,
                width: inner.width.saturating_sub(2),
                height: 1,
            },
            buf,
        );
    }
    buttons(
        &labels,
        Rect {
            y: inner.y + inner.height - 1,
            height: 1,
            ..inner
        },
        buf,
    );
    (lines.len(), shown)
}

/// Wraps a review line, continuation lines indented like the line itself plus two.
fn wrap_indented(line: &str, width: usize) -> Vec<String> {
    let indent = line.len() - line.trim_start().len() + 2;
    let mut out = Vec::new();
    for (n, part) in wrap(line.trim_start(), width.saturating_sub(indent))
        .into_iter()
        .enumerate()
    {
        let pad = if n == 0 { indent - 2 } else { indent };
        out.push(format!("{}{part}", " ".repeat(pad)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::levelset::LevelSet;
    use crate::tools::ntsysv::state::tests::screen;
    use crate::tools::ntsysv::state::Key;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn terminal(width: u16, height: u16) -> Terminal<TestBackend> {
        Terminal::new(TestBackend::new(width, height)).unwrap()
    }

    fn render(term: &mut Terminal<TestBackend>, s: &mut Screen) -> Vec<String> {
        term.draw(|f| {
            let area = f.area();
            draw(s, area, f.buffer_mut())
        })
        .unwrap();
        text(term.backend().buffer())
    }

    fn text(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    fn row_of(lines: &[String], needle: &str) -> usize {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", lines.join("\n")))
    }

    #[test]
    fn the_screen_at_80x24() {
        let mut s = screen();
        let lines = render(&mut terminal(80, 24), &mut s);
        let expected = [
            "┌────────────────────────────────── Services ──────────────────────────────────┐",
            "│ What services should be automatically started?                               │",
            "│ Runlevels edited: 2 3 4 5    type to filter                                  │",
            "│             runlevel  0   1   2   3   4   5   6                              │",
            "│ SysV initscripts                                                             │",
            "│ [*] alpha            off off  on  on  on  on off                             │",
            "│ [*] beta             off off off  on off off off                             │",
            "│ [ ] lonely            -   -   -  off  -  off  -                              │",
            "│ xinetd services                                                              │",
            "│ [*] echo             on                                                      │",
            "│ [ ] zeta             off                                                     │",
        ];
        assert_eq!(lines[..expected.len()], expected, "\n{}", lines.join("\n"));
        assert_eq!(
            lines[21],
            "│                          [   Ok   ]      [ Cancel ]                          │"
        );
        assert!(lines[23].starts_with(" Space: toggle  Tab: next  F1: describe"));
        // The cursor's line is reversed, the others not.
        let buf = terminal_buffer(&mut s);
        assert!(buf[(6, 5)].modifier.contains(Modifier::REVERSED));
        assert!(!buf[(6, 6)].modifier.contains(Modifier::REVERSED));
    }

    fn terminal_buffer(s: &mut Screen) -> Buffer {
        let mut term = terminal(80, 24);
        render(&mut term, s);
        term.backend().buffer().clone()
    }

    #[test]
    fn a_toggle_shows_the_pending_state_highlighted() {
        let mut s = screen();
        s.key(Key::Char(' '));
        let mut term = terminal(80, 24);
        let lines = render(&mut term, &mut s);
        assert_eq!(
            lines[5],
            "│ [ ] alpha            off off off off off off off                             │"
        );
        let buf = term.backend().buffer();
        let cell = |x: u16| &buf[(x, 5)];
        // Levels 2-5 changed (yellow), 0 and 1 did not.
        assert_eq!(cell(32).fg, Color::Yellow);
        assert_eq!(cell(24).fg, Color::Reset);
        assert_eq!(cell(3).fg, Color::Yellow);
    }

    #[test]
    fn back_button_and_other_levels() {
        let mut s = screen();
        s.back = true;
        s.levels = LevelSet::parse_digits("35").unwrap_or_default();
        let lines = render(&mut terminal(80, 24), &mut s);
        assert!(lines[21].contains("[  Back  ]"), "{}", lines[21]);
        assert!(lines[2].contains("Runlevels edited: 3 5"));
        s.key(Key::Tab);
        s.key(Key::Tab);
        let buf = terminal_buffer(&mut s);
        let x = text(&buf)[21].find("[  Back").unwrap_or(0) as u16;
        assert!(buf[(x + 2, 21)].modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn filter_line_and_no_match() {
        let mut s = screen();
        for c in "ta".chars() {
            s.key(Key::Char(c));
        }
        let lines = render(&mut terminal(80, 24), &mut s);
        assert!(lines[2].contains("Filter: ta  (2 of 5)"), "{}", lines[2]);
        assert_eq!(row_of(&lines, "beta"), 5);
        assert_eq!(row_of(&lines, "xinetd services"), 6);
        assert_eq!(row_of(&lines, "zeta"), 7);
        s.key(Key::Char('q'));
        let lines = render(&mut terminal(80, 24), &mut s);
        assert!(lines[4].contains("No service name contains \"taq\"."));
    }

    #[test]
    fn describe_popup() {
        let mut s = screen();
        s.key(Key::F(1));
        let lines = render(&mut terminal(80, 24), &mut s);
        let top = row_of(&lines, "─ alpha ─");
        assert!(lines[top].contains("┌"), "{}", lines[top]);
        assert!(lines[top + 1].contains("│ The alpha service."));
        assert!(lines[top + 3].contains("[   Ok   ]"));
    }

    #[test]
    fn long_review_scrolls() {
        let mut s = screen();
        s.show_review((1..=40).map(|n| format!("line {n}")).collect());
        let mut term = terminal(80, 24);
        let lines = render(&mut term, &mut s);
        assert!(row_of(&lines, "Apply these changes?") < row_of(&lines, "line 1 "));
        assert!(lines.iter().any(|l| l.contains(" 1-18 of 40 ")));
        assert_eq!((s.review_rows, s.review_page), (40, 18));
        s.key(Key::End);
        let lines = render(&mut term, &mut s);
        assert!(lines.iter().any(|l| l.contains("line 40")));
        assert!(lines.iter().any(|l| l.contains(" 23-40 of 40 ")));
        assert!(lines.iter().any(|l| l.contains("[ Apply  ]")));
    }

    #[test]
    fn cursor_stays_visible_when_the_list_scrolls() {
        let many: Vec<_> = (0..60)
            .map(|n| {
                crate::tools::ntsysv::state::Entry::sysv(
                    &format!("svc{n:02}"),
                    "",
                    LevelSet::EMPTY,
                    LevelSet::ALL,
                    LevelSet::MULTI_USER,
                )
            })
            .collect();
        let mut s = Screen::new(many, LevelSet::MULTI_USER, false);
        let mut term = terminal(80, 24);
        let lines = render(&mut term, &mut s);
        assert_eq!(row_of(&lines, "SysV initscripts"), 4);
        assert_eq!(s.page, 15);
        s.key(Key::PageDown);
        s.key(Key::PageDown);
        let lines = render(&mut term, &mut s);
        assert!(lines[19].contains("svc30"), "{}", lines.join("\n"));
        s.key(Key::End);
        let lines = render(&mut term, &mut s);
        assert!(lines[19].contains("svc59"));
        assert!(lines[3].contains("runlevel  0   1   2"));
        s.key(Key::Home);
        let lines = render(&mut term, &mut s);
        assert_eq!(row_of(&lines, "SysV initscripts"), 4);
    }

    #[test]
    fn resize_redraws_and_too_small_says_so() {
        let mut s = screen();
        let mut term = terminal(80, 24);
        render(&mut term, &mut s);
        term.backend_mut().resize(120, 40);
        let lines = render(&mut term, &mut s);
        assert_eq!(lines.len(), 40);
        assert!(lines[38].ends_with('┘') && lines[38].len() > 100);
        assert!(lines[5].contains("[*] alpha"));
        term.backend_mut().resize(30, 8);
        let lines = render(&mut term, &mut s);
        assert_eq!(lines[0], "The window is too small for");
        term.backend_mut().resize(50, 12);
        let lines = render(&mut term, &mut s);
        assert!(lines[9].contains("[   Ok   ]"), "{}", lines.join("\n"));
        assert!(lines[11].starts_with(" Space toggle"));
    }

    #[test]
    fn word_wrap() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10), ["a", "b"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("a\tb\x1b[2J", 10), ["a b?[2J"]);
        assert_eq!(fit("x\x07y", 4), "x?y ");
        assert_eq!(
            wrap_indented("  level 2: a b c", 12),
            ["  level 2:", "    a b c"]
        );
    }
}
