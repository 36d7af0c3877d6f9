//! `ntsysv`: Red Hat's full-screen service picker — a checkbox per init.d and xinetd
//! service, for the runlevels given by `--level` (2345 by default). Beyond it: type to
//! filter, each service's state per level on screen, and a review of every link and
//! file that will change before anything is. Changes go through the same library calls
//! as `chkconfig on/off` (`sys::services`).

use std::ffi::OsString;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;

use super::Context;
use crate::format::levelset::LevelSet;
use crate::sys::layout::Root;
use crate::sys::services::{Plan, Services};
use crate::sys::terminal::{self, FullScreen};

pub mod state;
pub mod view;

use state::{Action, Entry, Key, Screen, Section};

/// How long a wait for a key lasts before the signal flag is looked at again.
const SIGNAL_CHECK: Duration = Duration::from_millis(200);

const USAGE: &str = "\
usage: ntsysv [--level LEVELS] [--back] [--hide] [--root DIR]

Choose, on a full screen, which services start in the runlevels LEVELS (digits 0-6,
default 2345).

  --level LEVELS  the runlevels to edit (--levels too)
  --back          name the second button Back instead of Cancel (for installers)
  --hide          leave out the services whose script says '# hide: true'
  --root DIR      work on the system below DIR

Keys:
  Space         turn the service under the cursor on or off
  Up, Down      move (also Page Up, Page Down, Home, End)
  Tab           move between the list and the buttons
  F1            the service's description
  letters       filter the list by name (Backspace and Ctrl-U undo)
  Enter, F12    Ok: review the changes, then apply them
  Esc           cancel

Exit status: 0 after Ok, 1 after Cancel or Back, 2 on errors.
";

#[derive(Debug, Default)]
struct Opts {
    levels: Option<String>,
    back: bool,
    hide: bool,
    root: Option<PathBuf>,
    help: bool,
}

/// Parses the command line as popt does for Red Hat's ntsysv (`--level 35` or
/// `--level=35`); the error is popt's line.
fn parse(args: &[OsString]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut words = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(word) = words.next() {
        let Some(long) = word.strip_prefix("--") else {
            if word == "-h" {
                o.help = true;
                continue;
            }
            return Err(if word.starts_with('-') {
                format!("{word}: unknown option")
            } else {
                format!("{word}: unexpected argument")
            });
        };
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (long, None),
        };
        let takes_value = matches!(name, "level" | "levels" | "root");
        if inline.is_some() && !takes_value {
            return Err(format!("--{name}: option does not take an argument"));
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| words.next())
                .ok_or_else(|| format!("--{name}: missing argument"))
        };
        match name {
            "level" | "levels" => o.levels = Some(value()?),
            "root" => o.root = Some(PathBuf::from(value()?)),
            "back" => o.back = true,
            "hide" => o.hide = true,
            "help" => o.help = true,
            _ => return Err(format!("{word}: unknown option")),
        }
    }
    Ok(o)
}

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    let progname = super::program_name(&args, "ntsysv");
    let o = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if o.help {
        print!("{USAGE}");
        return 0;
    }
    let levels = match o.levels.as_deref() {
        None => LevelSet::MULTI_USER,
        Some(text) => match LevelSet::parse_digits(text) {
            Some(l) => l,
            None => {
                eprintln!("bad argument to --levels");
                return 2;
            }
        },
    };
    let root = ctx.root(o.root.as_deref());
    let services = match scan(&root) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if !may_change(&services) {
        eprintln!("You must be root to run {progname}.");
        return 1;
    }
    let entries = entries(&services, levels, o.hide);
    if entries.is_empty() {
        eprintln!("No services may be managed by ntsysv!");
        return 2;
    }
    let mut screen = Screen::new(entries, levels, o.back);
    match interact(&mut screen, &root) {
        Ok(Outcome::Apply(batch)) => apply(&batch),
        Ok(Outcome::Finish) => 0,
        Ok(Outcome::Cancel) => 1,
        Ok(Outcome::Signal(sig)) => terminal::die_of(sig),
        Err(e) => {
            eprintln!("ntsysv: {e}");
            2
        }
    }
}

fn scan(root: &Root) -> Result<Services, i32> {
    let services = Services::scan(root).map_err(|e| {
        eprintln!("ntsysv: {e}");
        2
    })?;
    for problem in &services.problems {
        eprintln!("ntsysv: {problem}");
    }
    Ok(services)
}

/// Red Hat's ntsysv insists on uid 0. What it protects is the links and the xinetd
/// files, and below `--root` (or for a delegated tree) those may well be writable
/// without it: write access decides, as for chkconfig.
fn may_change(services: &Services) -> bool {
    services.can_change_links() && (services.xinetd.is_empty() || services.can_change_xinetd())
}

/// The services ntsysv offers, as Red Hat's does: the init.d scripts chkconfig manages
/// that have a link in some level 0–6 (as `chkconfig --list` shows them), and the
/// xinetd services.
fn entries(services: &Services, levels: LevelSet, hide: bool) -> Vec<Entry> {
    let sysv = services
        .sysv
        .values()
        .filter(|s| s.installed && s.info.is_ok() && s.is_configured())
        .filter(|s| !(hide && s.hidden()))
        .map(|s| {
            Entry::sysv(
                &s.name,
                s.description(),
                s.on_levels().intersection(LevelSet::ALL),
                s.linked_levels().intersection(LevelSet::ALL),
                levels,
            )
        });
    let xinetd = services
        .xinetd
        .values()
        .map(|x| Entry::xinetd(&x.name, x.description.as_deref().unwrap_or(""), x.enabled));
    sysv.chain(xinetd).collect()
}

/// What was reviewed and accepted: the services as read when Ok was pressed, the plan
/// of their links, and the xinetd services to switch.
struct Batch {
    services: Services,
    plan: Plan,
    xinetd: Vec<(String, bool)>,
}

enum Outcome {
    Apply(Box<Batch>),
    Finish,
    Cancel,
    Signal(nix::sys::signal::Signal),
}

/// Runs the screen until the user is done or a signal ends it. The terminal is given
/// back before this returns, whatever the way out.
fn interact(screen: &mut Screen, root: &Root) -> Result<Outcome, String> {
    let _session = FullScreen::enter()?;
    let fail = |e: io::Error| format!("terminal: {e}");
    let mut term =
        Terminal::new(CrosstermBackend::new(BufWriter::new(io::stdout()))).map_err(fail)?;
    term.clear().map_err(fail)?;
    let mut reviewed: Option<Batch> = None;
    let mut dirty = true;
    loop {
        if let Some(sig) = terminal::caught() {
            return Ok(Outcome::Signal(sig));
        }
        if dirty {
            term.draw(|f| {
                let area = f.area();
                view::draw(screen, area, f.buffer_mut())
            })
            .map_err(fail)?;
            dirty = false;
        }
        if !event::poll(SIGNAL_CHECK).map_err(fail)? {
            continue;
        }
        let key = match event::read().map_err(fail)? {
            Event::Key(k) => key(k),
            Event::Resize(..) => {
                dirty = true;
                continue;
            }
            _ => continue,
        };
        let Some(key) = key else {
            continue;
        };
        dirty = true;
        match screen.key(key) {
            Action::Redraw => {}
            Action::Review => match review(root, screen) {
                Ok((lines, batch)) => {
                    reviewed = Some(batch);
                    screen.show_review(lines);
                }
                Err(e) => screen.show_error(e),
            },
            Action::Apply => {
                if let Some(batch) = reviewed.take() {
                    return Ok(Outcome::Apply(Box::new(batch)));
                }
            }
            Action::Finish => return Ok(Outcome::Finish),
            Action::Cancel => return Ok(Outcome::Cancel),
        }
    }
}

/// Reads the services again (the screen may have been open a while) and plans the
/// changes the boxes ask for, as `chkconfig NAME on|off` would; returns the review's
/// text and the batch.
fn review(root: &Root, screen: &Screen) -> Result<(Vec<String>, Batch), String> {
    let services = Services::scan(root)?;
    let changes = screen.changes();
    let requests: Vec<_> = changes
        .iter()
        .filter(|c| c.section == Section::Sysv)
        .map(|c| services.on_off(&c.name, screen.levels, c.on))
        .collect();
    let plan = services.plan(&requests)?;
    let xinetd = changes
        .iter()
        .filter(|c| c.section == Section::Xinetd)
        .map(|c| (c.name.clone(), c.on))
        .collect();
    let lines = state::review_lines(&changes, &plan, screen.levels);
    Ok((
        lines,
        Batch {
            services,
            plan,
            xinetd,
        },
    ))
}

fn apply(batch: &Batch) -> i32 {
    for w in &batch.plan.warnings {
        eprintln!("ntsysv: warning: {w}");
    }
    match batch.services.apply_batch(&batch.plan, &batch.xinetd) {
        Ok(notes) => {
            for note in notes {
                eprintln!("ntsysv: {note}");
            }
            0
        }
        Err(e) => {
            eprintln!("ntsysv: {e}");
            2
        }
    }
}

/// A terminal key as the screen knows it; None for what the screen ignores.
fn key(ev: KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let alt = ev.modifiers.contains(KeyModifiers::ALT);
    Some(match ev.code {
        KeyCode::Char('c') if ctrl => Key::Interrupt,
        KeyCode::Char('u') if ctrl => Key::ClearLine,
        KeyCode::Char(_) if ctrl || alt => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::F(n) => Key::F(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        std::iter::once("ntsysv")
            .chain(v.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn popt_style_command_lines() {
        let o = parse(&args(&["--level=35", "--back", "--hide"])).unwrap();
        assert_eq!(o.levels.as_deref(), Some("35"));
        assert!(o.back && o.hide && !o.help);
        let o = parse(&args(&["--levels", "4", "--root", "/mnt"])).unwrap();
        assert_eq!(o.levels.as_deref(), Some("4"));
        assert_eq!(o.root, Some(PathBuf::from("/mnt")));
        assert!(parse(&args(&["-h"])).unwrap().help);
        assert_eq!(
            parse(&args(&["--bogus"])).unwrap_err(),
            "--bogus: unknown option"
        );
        assert_eq!(
            parse(&args(&["--level"])).unwrap_err(),
            "--level: missing argument"
        );
        assert_eq!(
            parse(&args(&["--back=yes"])).unwrap_err(),
            "--back: option does not take an argument"
        );
        assert_eq!(parse(&args(&["-x"])).unwrap_err(), "-x: unknown option");
        assert_eq!(
            parse(&args(&["sshd"])).unwrap_err(),
            "sshd: unexpected argument"
        );
    }
}
