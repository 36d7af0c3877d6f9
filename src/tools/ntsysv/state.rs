//! ntsysv's screen as plain data: the services with their checkboxes, the filter, the
//! focus, the pop-up on top, and what each key does to them. No terminal here: keys
//! come in as [`Key`], the tool is told what to do next as an [`Action`], and `view`
//! draws whatever state results.

use crate::format::levelset::{level, LevelSet, CHKCONFIG_LEVELS};
use crate::format::runlevel::Runlevel;
use crate::plan::services::Plan;

/// The two lists of the screen, in the order shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Section {
    Sysv,
    Xinetd,
}

impl Section {
    pub(crate) fn title(self) -> &'static str {
        match self {
            Section::Sysv => "SysV initscripts",
            Section::Xinetd => "xinetd services",
        }
    }
}

/// One service with a checkbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: String,
    pub section: Section,
    pub description: String,
    /// init.d services: the levels 0–6 with an S link, and those with any link. For an
    /// xinetd service, every level when it is enabled.
    pub on: LevelSet,
    pub linked: LevelSet,
    /// The box as the screen opened.
    pub was: bool,
    pub checked: bool,
}

impl Entry {
    /// An init.d service; its box is checked when it starts in one of `edited`.
    pub(crate) fn sysv(
        name: &str,
        description: &str,
        on: LevelSet,
        linked: LevelSet,
        edited: LevelSet,
    ) -> Entry {
        let checked = !on.intersection(edited).is_empty();
        Entry {
            name: name.to_string(),
            section: Section::Sysv,
            description: description.to_string(),
            on,
            linked: linked.union(on),
            was: checked,
            checked,
        }
    }

    pub(crate) fn xinetd(name: &str, description: &str, enabled: bool) -> Entry {
        let levels = if enabled {
            LevelSet::ALL
        } else {
            LevelSet::EMPTY
        };
        Entry {
            name: name.to_string(),
            section: Section::Xinetd,
            description: description.to_string(),
            on: levels,
            linked: LevelSet::ALL,
            was: enabled,
            checked: enabled,
        }
    }

    /// The box differs from what is on disk.
    pub(crate) fn changed(&self) -> bool {
        self.checked != self.was
    }

    /// What `level` will look like once the pending change is applied: on, off, or
    /// no link at all.
    pub(crate) fn state_in(&self, lv: Runlevel, edited: LevelSet) -> LevelState {
        if self.changed() && edited.contains(lv) {
            return if self.checked {
                LevelState::On
            } else {
                LevelState::Off
            };
        }
        if self.on.contains(lv) {
            LevelState::On
        } else if self.linked.contains(lv) {
            LevelState::Off
        } else {
            LevelState::Unlinked
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LevelState {
    On,
    Off,
    Unlinked,
}

/// A service to turn on or off when the screen's changes are applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    pub name: String,
    pub section: Section,
    pub on: bool,
}

/// The keys the screen knows, free of any terminal library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
    /// Ctrl-U: empty the filter.
    ClearLine,
    /// Ctrl-C: raw mode turns it into a key; it cancels like Esc, from anywhere.
    Interrupt,
    F(u8),
}

/// What has the keyboard on the main screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Focus {
    List,
    Ok,
    Cancel,
}

/// The two buttons of the review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReviewButton {
    Apply,
    Back,
}

/// A window over the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Popup {
    /// F1: a service's description.
    Describe {
        title: String,
        text: String,
    },
    /// What Ok will change, before it is applied.
    Review {
        lines: Vec<String>,
        offset: usize,
        focus: ReviewButton,
    },
    Error {
        text: String,
    },
}

/// What the tool must do after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing beyond drawing the new state.
    Redraw,
    /// Ok with changes: plan them and show the review (or an error).
    Review,
    /// Ok with nothing to change.
    Finish,
    /// The review was accepted: apply the changes.
    Apply,
    /// Cancel (or Back, or Esc).
    Cancel,
}

/// A line of the list: a section title or a service (an index into the entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Row {
    Section(Section),
    Entry(usize),
}

/// The whole screen.
#[derive(Clone, Debug)]
pub(crate) struct Screen {
    entries: Vec<Entry>,
    /// The levels edited (`--level`).
    pub levels: LevelSet,
    /// `--back`: the second button says Back.
    pub back: bool,
    filter: String,
    /// The entry under the cursor (an index into `entries`).
    cursor: usize,
    /// The first row shown, and how many rows the list had when last drawn; kept by
    /// the view so that the cursor stays visible and Page keys move a page.
    pub offset: usize,
    pub page: usize,
    /// The review's lines as drawn (wrapped) and how many fit, kept by the view too.
    pub review_rows: usize,
    pub review_page: usize,
    focus: Focus,
    popup: Option<Popup>,
}

impl Screen {
    /// A screen over `entries`: sorted, init.d services first, each list by name.
    pub(crate) fn new(mut entries: Vec<Entry>, levels: LevelSet, back: bool) -> Screen {
        entries.sort_by(|a, b| (a.section, &a.name).cmp(&(b.section, &b.name)));
        Screen {
            entries,
            levels,
            back,
            filter: String::new(),
            cursor: 0,
            offset: 0,
            page: 1,
            review_rows: 0,
            review_page: 1,
            focus: Focus::List,
            popup: None,
        }
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub(crate) fn filter(&self) -> &str {
        &self.filter
    }

    pub(crate) fn focus(&self) -> Focus {
        self.focus
    }

    pub(crate) fn popup(&self) -> Option<&Popup> {
        self.popup.as_ref()
    }

    /// The entry under the cursor, if any is shown.
    pub(crate) fn current(&self) -> Option<usize> {
        self.visible().contains(&self.cursor).then_some(self.cursor)
    }

    fn matches(&self, entry: &Entry) -> bool {
        self.filter.is_empty()
            || entry
                .name
                .to_lowercase()
                .contains(&self.filter.to_lowercase())
    }

    /// The entries the filter lets through, in order.
    pub(crate) fn visible(&self) -> Vec<usize> {
        (0..self.entries.len())
            .filter(|i| self.matches(&self.entries[*i]))
            .collect()
    }

    /// The list's lines: each section with entries shown gets a title line.
    pub(crate) fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let mut section = None;
        for i in self.visible() {
            let s = self.entries[i].section;
            if section != Some(s) {
                rows.push(Row::Section(s));
                section = Some(s);
            }
            rows.push(Row::Entry(i));
        }
        rows
    }

    /// The services whose box changed, as changes to make.
    pub(crate) fn changes(&self) -> Vec<Change> {
        self.entries
            .iter()
            .filter(|e| e.changed())
            .map(|e| Change {
                name: e.name.clone(),
                section: e.section,
                on: e.checked,
            })
            .collect()
    }

    pub(crate) fn show_review(&mut self, lines: Vec<String>) {
        self.popup = Some(Popup::Review {
            lines,
            offset: 0,
            focus: ReviewButton::Apply,
        });
    }

    pub(crate) fn show_error(&mut self, text: String) {
        self.popup = Some(Popup::Error { text });
    }

    /// Handles one key.
    pub(crate) fn key(&mut self, key: Key) -> Action {
        if key == Key::Interrupt {
            return Action::Cancel;
        }
        match self.popup.take() {
            Some(popup) => self.popup_key(popup, key),
            None => match self.focus {
                Focus::List => self.list_key(key),
                Focus::Ok | Focus::Cancel => self.button_key(key),
            },
        }
    }

    fn popup_key(&mut self, popup: Popup, key: Key) -> Action {
        match popup {
            Popup::Review {
                lines,
                offset,
                focus,
            } => self.review_key(lines, offset, focus, key),
            // Any key closes a message, as newt's single-button window does.
            Popup::Describe { .. } | Popup::Error { .. } => Action::Redraw,
        }
    }

    fn review_key(
        &mut self,
        lines: Vec<String>,
        offset: usize,
        focus: ReviewButton,
        key: Key,
    ) -> Action {
        let last = self.review_rows.saturating_sub(self.review_page);
        let page = self.review_page.max(1);
        let (offset, focus) = match key {
            Key::Esc => return Action::Redraw,
            Key::Enter | Key::Char(' ') => {
                return match focus {
                    ReviewButton::Apply => Action::Apply,
                    ReviewButton::Back => Action::Redraw,
                }
            }
            Key::Tab | Key::BackTab | Key::Left | Key::Right => (
                offset,
                match focus {
                    ReviewButton::Apply => ReviewButton::Back,
                    ReviewButton::Back => ReviewButton::Apply,
                },
            ),
            Key::Up => (offset.saturating_sub(1), focus),
            Key::Down => ((offset + 1).min(last), focus),
            Key::PageUp => (offset.saturating_sub(page), focus),
            Key::PageDown => ((offset + page).min(last), focus),
            Key::Home => (0, focus),
            Key::End => (last, focus),
            _ => (offset, focus),
        };
        self.popup = Some(Popup::Review {
            lines,
            offset,
            focus,
        });
        Action::Redraw
    }

    fn list_key(&mut self, key: Key) -> Action {
        match key {
            Key::Char(' ') => self.toggle(),
            Key::Char(c) if !c.is_control() => self.edit_filter(|f| f.push(c)),
            Key::Backspace => self.edit_filter(|f| {
                f.pop();
            }),
            Key::ClearLine => self.edit_filter(String::clear),
            Key::Up => self.move_by(-1),
            Key::Down => self.move_by(1),
            Key::PageUp => self.move_by(-(self.page.max(1) as isize)),
            Key::PageDown => self.move_by(self.page.max(1) as isize),
            Key::Home => self.move_by(isize::MIN),
            Key::End => self.move_by(isize::MAX),
            Key::Tab => self.focus = Focus::Ok,
            Key::BackTab => self.focus = Focus::Cancel,
            Key::F(1) => self.describe(),
            // Enter is Ok: nothing is written before the review. (Red Hat's ntsysv
            // took Enter in the list as Cancel, dropping every toggle.) F12 is newt's
            // Ok key.
            Key::Enter | Key::F(12) => return self.ok(),
            Key::Esc => return Action::Cancel,
            _ => {}
        }
        Action::Redraw
    }

    fn button_key(&mut self, key: Key) -> Action {
        match key {
            Key::Enter | Key::Char(' ') if self.focus == Focus::Ok => return self.ok(),
            Key::Enter | Key::Char(' ') => return Action::Cancel,
            Key::Esc => return Action::Cancel,
            Key::F(12) => return self.ok(),
            Key::Tab => {
                self.focus = match self.focus {
                    Focus::Ok => Focus::Cancel,
                    _ => Focus::List,
                }
            }
            Key::BackTab => {
                self.focus = match self.focus {
                    Focus::Cancel => Focus::Ok,
                    _ => Focus::List,
                }
            }
            Key::Left | Key::Right => {
                self.focus = match self.focus {
                    Focus::Ok => Focus::Cancel,
                    _ => Focus::Ok,
                }
            }
            Key::Up => self.focus = Focus::List,
            // Typing goes to the filter from anywhere.
            Key::Char(_) | Key::Backspace | Key::ClearLine => {
                self.focus = Focus::List;
                return self.list_key(key);
            }
            _ => {}
        }
        Action::Redraw
    }

    fn ok(&mut self) -> Action {
        if self.changes().is_empty() {
            Action::Finish
        } else {
            Action::Review
        }
    }

    fn toggle(&mut self) {
        if let Some(i) = self.current() {
            let entry = &mut self.entries[i];
            entry.checked = !entry.checked;
        }
    }

    fn describe(&mut self) {
        if let Some(i) = self.current() {
            let entry = &self.entries[i];
            let text = if entry.description.is_empty() {
                "No description available.".to_string()
            } else {
                entry.description.clone()
            };
            self.popup = Some(Popup::Describe {
                title: entry.name.clone(),
                text,
            });
        }
    }

    /// Changes the filter; the cursor stays on its entry if still shown, else goes to
    /// the first one shown.
    fn edit_filter(&mut self, edit: impl FnOnce(&mut String)) {
        edit(&mut self.filter);
        let visible = self.visible();
        if !visible.contains(&self.cursor) {
            self.cursor = visible.first().copied().unwrap_or(0);
        }
        self.offset = 0;
    }

    /// Moves the cursor by `delta` shown entries, stopping at either end.
    fn move_by(&mut self, delta: isize) {
        let visible = self.visible();
        let Some(last) = visible.len().checked_sub(1) else {
            return;
        };
        let at = visible.iter().position(|i| *i == self.cursor).unwrap_or(0);
        let to = if delta < 0 {
            at.saturating_sub(delta.unsigned_abs())
        } else {
            at.saturating_add(delta.unsigned_abs()).min(last)
        };
        self.cursor = visible[to];
    }
}

/// The review's text: per service what it becomes and the links that change (other
/// services renumbered to keep the dependency order included), then the planner's
/// warnings.
pub(crate) fn review_lines(changes: &[Change], plan: &Plan, levels: LevelSet) -> Vec<String> {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let mut lines = Vec::new();
    for change in changes.iter().filter(|c| c.section == Section::Sysv) {
        lines.push(format!(
            "{}: {} in runlevels {}",
            change.name,
            on_off(change.on),
            levels.words()
        ));
        lines.extend(link_lines(plan, &change.name));
    }
    let moved = plan
        .changes
        .keys()
        .filter(|name| !changes.iter().any(|c| &c.name == *name));
    for name in moved {
        lines.push(format!("{name}: renumbered to keep the dependency order"));
        lines.extend(link_lines(plan, name));
    }
    for change in changes.iter().filter(|c| c.section == Section::Xinetd) {
        lines.push(format!("{} (xinetd): {}", change.name, on_off(change.on)));
    }
    lines.extend(plan.warnings.iter().map(|w| format!("warning: {w}")));
    lines
}

/// `  level 2: K25alpha -> S55alpha` for each level whose links change.
fn link_lines(plan: &Plan, name: &str) -> Vec<String> {
    plan.changes.get(name).map_or_else(Vec::new, |change| {
        change
            .level_changes()
            .into_iter()
            .map(|(lv, before, after)| format!("  level {lv}: {before} -> {after}"))
            .collect()
    })
}

/// The levels 0–6, in order, for the list's columns.
pub(crate) fn columns() -> impl Iterator<Item = Runlevel> {
    CHKCONFIG_LEVELS.into_iter().map(level)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plan::services::ServiceChange;

    fn set(digits: &str) -> LevelSet {
        LevelSet::parse_digits(digits).unwrap_or(LevelSet::EMPTY)
    }

    /// alpha on in 2345, beta on in 3 only (K elsewhere), lonely off in 3 and 5 (no
    /// other link), echo an
    /// enabled xinetd service, zeta a disabled one.
    pub(crate) fn screen() -> Screen {
        let edited = LevelSet::MULTI_USER;
        Screen::new(
            vec![
                Entry::xinetd("zeta", "", false),
                Entry::sysv("beta", "Beta.", set("3"), LevelSet::ALL, edited),
                Entry::xinetd("echo", "The echo service.", true),
                Entry::sysv("lonely", "", LevelSet::EMPTY, set("35"), edited),
                Entry::sysv(
                    "alpha",
                    "The alpha service.",
                    set("2345"),
                    LevelSet::ALL,
                    edited,
                ),
            ],
            edited,
            false,
        )
    }

    fn names(screen: &Screen) -> Vec<&str> {
        screen
            .visible()
            .into_iter()
            .map(|i| screen.entries()[i].name.as_str())
            .collect()
    }

    fn current(screen: &Screen) -> Option<&str> {
        screen.current().map(|i| screen.entries()[i].name.as_str())
    }

    fn press(screen: &mut Screen, keys: &[Key]) -> Action {
        keys.iter().fold(Action::Redraw, |_, k| screen.key(*k))
    }

    fn typed(text: &str) -> Vec<Key> {
        text.chars().map(Key::Char).collect()
    }

    #[test]
    fn sections_in_order_and_boxes_from_the_edited_levels() {
        let s = screen();
        assert_eq!(names(&s), ["alpha", "beta", "lonely", "echo", "zeta"]);
        let checked: Vec<bool> = s.entries().iter().map(|e| e.checked).collect();
        assert_eq!(checked, [true, true, false, true, false]);
        assert_eq!(s.rows()[..2], [Row::Section(Section::Sysv), Row::Entry(0)]);
        assert_eq!(s.rows()[4], Row::Section(Section::Xinetd));
        // Edited levels 0 and 1: beta (on in 3 only) is not checked.
        let b = Entry::sysv("beta", "", set("3"), LevelSet::ALL, set("01"));
        assert!(!b.checked);
    }

    #[test]
    fn space_toggles_and_twice_is_no_change() {
        let mut s = screen();
        assert_eq!(press(&mut s, &[Key::Down, Key::Char(' ')]), Action::Redraw);
        assert_eq!(
            s.changes(),
            [Change {
                name: "beta".into(),
                section: Section::Sysv,
                on: false
            }]
        );
        press(&mut s, &[Key::Char(' ')]);
        assert!(s.changes().is_empty());
        assert_eq!(press(&mut s, &[Key::F(12)]), Action::Finish);
    }

    #[test]
    fn pending_state_per_level() {
        let mut s = screen();
        let beta = |s: &Screen| -> Vec<LevelState> {
            columns()
                .map(|l| s.entries()[1].state_in(l, s.levels))
                .collect()
        };
        use LevelState::*;
        assert_eq!(beta(&s), [Off, Off, Off, On, Off, Off, Off]);
        press(&mut s, &[Key::Down, Key::Char(' ')]);
        assert_eq!(beta(&s), [Off, Off, Off, Off, Off, Off, Off]);
        press(&mut s, &[Key::Char(' ')]);
        let lonely = &s.entries()[2];
        assert_eq!(lonely.state_in(level('2'), s.levels), Unlinked);
        assert_eq!(lonely.state_in(level('3'), s.levels), Off);
        press(&mut s, &[Key::Down, Key::Char(' ')]);
        let lonely = &s.entries()[2];
        assert_eq!(lonely.state_in(level('3'), s.levels), On);
        assert_eq!(lonely.state_in(level('1'), s.levels), Unlinked);
    }

    #[test]
    fn tab_cycles_through_the_buttons() {
        let mut s = screen();
        press(&mut s, &[Key::Tab]);
        assert_eq!(s.focus(), Focus::Ok);
        press(&mut s, &[Key::Tab]);
        assert_eq!(s.focus(), Focus::Cancel);
        press(&mut s, &[Key::Tab]);
        assert_eq!(s.focus(), Focus::List);
        press(&mut s, &[Key::BackTab]);
        assert_eq!(s.focus(), Focus::Cancel);
        press(&mut s, &[Key::Left]);
        assert_eq!(s.focus(), Focus::Ok);
        assert_eq!(press(&mut s, &[Key::Enter]), Action::Finish);
        assert_eq!(press(&mut s, &[Key::Right, Key::Enter]), Action::Cancel);
        // Space on the list toggles; on a button it presses it.
        let mut s = screen();
        assert_eq!(
            press(&mut s, &[Key::Char(' '), Key::Tab, Key::Char(' ')]),
            Action::Review
        );
    }

    #[test]
    fn esc_and_ctrl_c_cancel() {
        let mut s = screen();
        assert_eq!(press(&mut s, &[Key::Char(' '), Key::Esc]), Action::Cancel);
        let mut s = screen();
        press(&mut s, &[Key::F(1)]);
        assert!(s.popup().is_some());
        assert_eq!(press(&mut s, &[Key::Interrupt]), Action::Cancel);
    }

    #[test]
    fn enter_on_the_list_is_ok() {
        let mut s = screen();
        assert_eq!(press(&mut s, &[Key::Enter]), Action::Finish);
        assert_eq!(
            press(&mut s, &[Key::End, Key::Char(' '), Key::Enter]),
            Action::Review
        );
        assert_eq!(s.changes()[0].name, "zeta");
        assert_eq!(s.changes()[0].section, Section::Xinetd);
    }

    #[test]
    fn typing_filters_by_name() {
        let mut s = screen();
        press(&mut s, &[Key::Down]);
        assert_eq!(current(&s), Some("beta"));
        press(&mut s, &typed("E"));
        // Case does not matter; the cursor stays on beta, still shown.
        assert_eq!(names(&s), ["beta", "lonely", "echo", "zeta"]);
        assert_eq!(current(&s), Some("beta"));
        press(&mut s, &typed("c"));
        assert_eq!(names(&s), ["echo"]);
        assert_eq!(current(&s), Some("echo"));
        assert_eq!(s.rows(), [Row::Section(Section::Xinetd), Row::Entry(3)]);
        press(&mut s, &[Key::Char(' ')]);
        assert!(!s.entries()[3].checked);
        press(&mut s, &[Key::Backspace]);
        assert_eq!(s.filter(), "E");
        press(&mut s, &typed("xyz"));
        assert!(s.visible().is_empty());
        assert_eq!(s.current(), None);
        // Nothing to toggle or describe.
        press(&mut s, &[Key::Char(' '), Key::F(1), Key::Down]);
        assert!(s.popup().is_none());
        press(&mut s, &[Key::ClearLine]);
        assert_eq!(s.filter(), "");
        assert_eq!(names(&s).len(), 5);
        // Typing on a button goes to the filter.
        press(&mut s, &[Key::Tab]);
        press(&mut s, &typed("zet"));
        assert_eq!(s.focus(), Focus::List);
        assert_eq!(names(&s), ["zeta"]);
        assert_eq!(s.changes().len(), 1);
    }

    #[test]
    fn moving_stops_at_the_ends_and_pages() {
        let mut s = screen();
        press(&mut s, &[Key::Up]);
        assert_eq!(current(&s), Some("alpha"));
        press(&mut s, &[Key::End]);
        assert_eq!(current(&s), Some("zeta"));
        press(&mut s, &[Key::Down]);
        assert_eq!(current(&s), Some("zeta"));
        press(&mut s, &[Key::Home]);
        s.page = 2;
        press(&mut s, &[Key::PageDown]);
        assert_eq!(current(&s), Some("lonely"));
        press(&mut s, &[Key::PageDown, Key::PageDown]);
        assert_eq!(current(&s), Some("zeta"));
        press(&mut s, &[Key::PageUp]);
        assert_eq!(current(&s), Some("lonely"));
    }

    #[test]
    fn f1_describes_and_any_key_closes() {
        let mut s = screen();
        press(&mut s, &[Key::F(1)]);
        assert_eq!(
            s.popup(),
            Some(&Popup::Describe {
                title: "alpha".into(),
                text: "The alpha service.".into()
            })
        );
        // The key that closes the window does nothing else.
        press(&mut s, &[Key::Char(' ')]);
        assert!(s.popup().is_none());
        assert!(s.changes().is_empty());
        press(&mut s, &[Key::Down, Key::Down, Key::F(1)]);
        assert!(
            matches!(s.popup(), Some(Popup::Describe { text, .. }) if text == "No description available.")
        );
    }

    #[test]
    fn review_applies_or_goes_back() {
        let mut s = screen();
        assert_eq!(press(&mut s, &[Key::Char(' '), Key::Enter]), Action::Review);
        s.show_review(vec!["alpha: off in runlevels 2 3 4 5".into()]);
        assert_eq!(press(&mut s, &[Key::Enter]), Action::Apply);
        s.show_review(vec!["x".into()]);
        assert_eq!(press(&mut s, &[Key::Tab, Key::Enter]), Action::Redraw);
        assert!(s.popup().is_none());
        s.show_review(vec!["x".into()]);
        assert_eq!(press(&mut s, &[Key::Esc]), Action::Redraw);
        assert!(s.popup().is_none());
        // The boxes are as they were: Ok reviews again.
        assert_eq!(press(&mut s, &[Key::Enter]), Action::Review);
        s.show_error("dependency cycle".into());
        assert_eq!(press(&mut s, &[Key::Enter]), Action::Redraw);
        assert!(s.popup().is_none());
    }

    #[test]
    fn review_scrolls_within_its_lines() {
        let mut s = screen();
        s.show_review((0..30).map(|n| n.to_string()).collect());
        s.review_rows = 30;
        s.review_page = 10;
        let offset = |s: &Screen| match s.popup() {
            Some(Popup::Review { offset, .. }) => *offset,
            _ => usize::MAX,
        };
        press(&mut s, &[Key::Down, Key::Down]);
        assert_eq!(offset(&s), 2);
        press(&mut s, &[Key::PageDown, Key::PageDown, Key::PageDown]);
        assert_eq!(offset(&s), 20);
        press(&mut s, &[Key::Up, Key::Home]);
        assert_eq!(offset(&s), 0);
        press(&mut s, &[Key::End]);
        assert_eq!(offset(&s), 20);
    }

    #[test]
    fn review_text_from_the_plan() {
        let changes = vec![
            Change {
                name: "alpha".into(),
                section: Section::Sysv,
                on: false,
            },
            Change {
                name: "echo".into(),
                section: Section::Xinetd,
                on: true,
            },
        ];
        let mut plan = Plan::default();
        plan.changes.insert(
            "alpha".into(),
            ServiceChange {
                before: vec![
                    (level('2'), "S55alpha".into()),
                    (level('3'), "S55alpha".into()),
                ],
                after: vec![
                    (level('2'), "K25alpha".into()),
                    (level('3'), "K25alpha".into()),
                ],
            },
        );
        plan.changes.insert(
            "gamma".into(),
            ServiceChange {
                before: vec![
                    (level('2'), "S56gamma".into()),
                    (level('6'), "K24gamma".into()),
                ],
                after: vec![
                    (level('2'), "S57gamma".into()),
                    (level('6'), "K24gamma".into()),
                ],
            },
        );
        plan.warnings
            .push("service web requires db, which is off in runlevel 5".into());
        assert_eq!(
            review_lines(&changes, &plan, set("23")),
            [
                "alpha: off in runlevels 2 3",
                "  level 2: S55alpha -> K25alpha",
                "  level 3: S55alpha -> K25alpha",
                "gamma: renumbered to keep the dependency order",
                "  level 2: S56gamma -> S57gamma",
                "echo (xinetd): on",
                "warning: service web requires db, which is off in runlevel 5",
            ]
        );
    }
}
