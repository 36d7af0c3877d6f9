//! `ntsysv`: Red Hat's full-screen service picker — a checkbox per init.d and xinetd
//! service, for the runlevels given by `--level` (2345 by default). Beyond it: type to
//! filter, each service's state per level on screen, and a review of every link and
//! file that will change before anything is. Changes go through the same library calls
//! as `chkconfig on/off` (`plan::services`, `sys::services`).

use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, Command};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;

use super::Context;
use crate::error::{Failure, ToolError, ToolResult, Verbatim};
use crate::format::levelset::LevelSet;
use crate::plan::services::{Plan, Services};
use crate::sys::layout::Root;
use crate::sys::services::{self, ServicesError};
use crate::sys::terminal::{self, FullScreen};

pub(crate) mod state;
pub(crate) mod view;

use state::{Action, Entry, Key, Screen, Section};

/// How long a wait for a key lasts before the signal flag is looked at again.
const SIGNAL_CHECK: Duration = Duration::from_millis(200);

const KEYS: &str = "\
Keys:
  Space         turn the service under the cursor on or off
  Up, Down      move (also Page Up, Page Down, Home, End)
  Tab           move between the list and the buttons
  F1            the service's description
  letters       filter the list by name (Backspace and Ctrl-U undo)
  Enter, F12    Ok: review the changes, then apply them
  Esc           cancel

Exit status: 0 after Ok, 1 after Cancel or Back, 2 on errors.";

/// ntsysv's command line: its `--help`, manual page and completions. [`parse`] reads it
/// as popt does for Red Hat's ntsysv (popt's own error lines); the two agree on every
/// option (tested).
pub fn command() -> Command {
    Command::new("ntsysv")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Choose on a full screen which services start in which runlevels")
        .override_usage("ntsysv [--level LEVELS] [--back] [--hide] [--root DIR]")
        .help_template("usage: {usage}\n\n{about-with-newline}\n{all-args}{after-help}")
        .after_help(KEYS)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("level")
                .long("level")
                .visible_alias("levels")
                .value_name("LEVELS")
                .help("The runlevels to edit (digits 0-6, default 2345)"),
        )
        .arg(
            Arg::new("back")
                .long("back")
                .action(ArgAction::SetTrue)
                .help("Name the second button Back instead of Cancel (for installers)"),
        )
        .arg(
            Arg::new("hide")
                .long("hide")
                .action(ArgAction::SetTrue)
                .help("Leave out the services whose script says '# hide: true'"),
        )
        .arg(
            Arg::new("root")
                .long("root")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Work on the system below DIR"),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Print this help"),
        )
}

#[derive(Debug, Default)]
struct Opts {
    levels: Option<String>,
    back: bool,
    hide: bool,
    root: Option<PathBuf>,
    help: bool,
}

/// Parses the command line as popt does for Red Hat's ntsysv (`--level 35` or
/// `--level=35`); the error is popt's line, said as it is.
fn parse(args: &[OsString]) -> Result<Opts, Verbatim> {
    let popt = |line: String| Verbatim::new(1, line);
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
            return Err(popt(if word.starts_with('-') {
                format!("{word}: unknown option")
            } else {
                format!("{word}: unexpected argument")
            }));
        };
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (long, None),
        };
        let takes_value = matches!(name, "level" | "levels" | "root");
        if inline.is_some() && !takes_value {
            return Err(popt(format!("--{name}: option does not take an argument")));
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| words.next())
                .ok_or_else(|| popt(format!("--{name}: missing argument")))
        };
        match name {
            "level" | "levels" => o.levels = Some(value()?),
            "root" => o.root = Some(PathBuf::from(value()?)),
            "back" => o.back = true,
            "hide" => o.hide = true,
            "help" => o.help = true,
            _ => return Err(popt(format!("{word}: unknown option"))),
        }
    }
    Ok(o)
}

/// ntsysv's exit status for its own errors (a usage mistake is 1, as popt's).
const FAILED: i32 = 2;

pub fn main(ctx: &Context, args: Vec<OsString>) -> i32 {
    crate::error::finish("ntsysv", run(ctx, &args))
}

fn run(ctx: &Context, args: &[OsString]) -> ToolResult {
    let progname = super::program_name(args, "ntsysv");
    let o = parse(args)?;
    if o.help {
        print!("{}", command().render_help());
        return Ok(0);
    }
    let levels = match o.levels.as_deref() {
        None => LevelSet::MULTI_USER,
        Some(text) => LevelSet::parse_digits(text)
            .ok_or_else(|| Verbatim::new(FAILED, "bad argument to --levels"))?,
    };
    let root = ctx.root(o.root.as_deref());
    let services = scan(&root)?;
    if !may_change(&root, &services) {
        return Err(Verbatim::new(1, format!("You must be root to run {progname}.")).into());
    }
    let entries = entries(&services, levels, o.hide);
    if entries.is_empty() {
        return Err(Verbatim::new(FAILED, "No services may be managed by ntsysv!").into());
    }
    let mut screen = Screen::new(entries, levels, o.back);
    let outcome = interact(&mut screen, &root)?;
    match outcome {
        Outcome::Apply(batch) => apply(&root, &batch),
        Outcome::Finish => Ok(0),
        Outcome::Cancel => Ok(1),
        Outcome::Signal(sig) => Ok(terminal::die_of(sig)),
    }
}

fn scan(root: &Root) -> ToolResult<Services> {
    let scanned = services::scan(root).map_err(|e| Failure::new(FAILED, e.to_string()))?;
    for problem in &scanned.problems {
        eprintln!("ntsysv: {problem}");
    }
    Ok(scanned.services)
}

/// Red Hat's ntsysv insists on uid 0. What it protects is the links and the xinetd
/// files, and below `--root` (or for a delegated tree) those may well be writable
/// without it: write access decides, as for chkconfig.
fn may_change(root: &Root, services: &Services) -> bool {
    services::can_change_links(root, services)
        && (services.xinetd.is_empty() || services::can_change_xinetd(root))
}

/// The services ntsysv offers, as Red Hat's does: the init.d scripts chkconfig manages
/// that have a link in some level 0–6 (as `chkconfig --list` shows them), and the
/// xinetd services.
fn entries(services: &Services, levels: LevelSet, hide: bool) -> Vec<Entry> {
    let sysv = services
        .sysv
        .values()
        .filter(|s| s.is_listed())
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

/// What was reviewed and accepted: the plan of the links, and the xinetd services to
/// switch.
struct Batch {
    plan: Plan,
    xinetd: Vec<(String, bool)>,
}

enum Outcome {
    Apply(Box<Batch>),
    Finish,
    Cancel,
    Signal(nix::sys::signal::Signal),
}

/// Why the screen could not be shown or driven.
#[derive(Debug)]
enum ScreenError {
    /// No terminal to show it on.
    NoTerminal(crate::sys::terminal::TerminalError),
    Terminal(io::Error),
}

impl fmt::Display for ScreenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScreenError::NoTerminal(why) => why.fmt(f),
            ScreenError::Terminal(e) => write!(f, "terminal: {e}"),
        }
    }
}

impl ToolError for ScreenError {
    fn code(&self) -> i32 {
        FAILED
    }
}

/// Runs the screen until the user is done or a signal ends it. The terminal is given
/// back before this returns, whatever the way out.
fn interact(screen: &mut Screen, root: &Root) -> Result<Outcome, ScreenError> {
    let _session = FullScreen::enter().map_err(ScreenError::NoTerminal)?;
    let fail = ScreenError::Terminal;
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
                Err(e) => screen.show_error(e.to_string()),
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
fn review(root: &Root, screen: &Screen) -> Result<(Vec<String>, Batch), ServicesError> {
    let services = services::scan(root)?.services;
    let changes = screen.changes();
    let requests: Vec<_> = changes
        .iter()
        .filter(|c| c.section == Section::Sysv)
        .map(|c| services.on_off(&c.name, screen.levels, c.on))
        .collect();
    let plan = services
        .plan(&requests)
        .map_err(|e| ServicesError::planning(root, e))?;
    let xinetd = changes
        .iter()
        .filter(|c| c.section == Section::Xinetd)
        .map(|c| (c.name.clone(), c.on))
        .collect();
    let lines = state::review_lines(&changes, &plan, screen.levels);
    Ok((lines, Batch { plan, xinetd }))
}

fn apply(root: &Root, batch: &Batch) -> ToolResult {
    for w in &batch.plan.warnings {
        eprintln!("ntsysv: warning: {w}");
    }
    let notes = services::apply_batch(root, &batch.plan, &batch.xinetd)
        .map_err(|e| Failure::new(FAILED, e.to_string()))?;
    for note in notes {
        eprintln!("ntsysv: {note}");
    }
    Ok(0)
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
        super::super::argv("ntsysv", v)
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
        let error = |v: &[&str]| parse(&args(v)).unwrap_err().message;
        assert_eq!(error(&["--bogus"]), "--bogus: unknown option");
        assert_eq!(error(&["--level"]), "--level: missing argument");
        assert_eq!(
            error(&["--back=yes"]),
            "--back: option does not take an argument"
        );
        assert_eq!(error(&["-x"]), "-x: unknown option");
        assert_eq!(error(&["sshd"]), "sshd: unexpected argument");
    }

    #[test]
    fn every_option_of_the_command_is_accepted() {
        super::super::each_option_spelling(command(), 8, |words| {
            assert!(parse(&args(words)).is_ok(), "{words:?}");
        });
        let help = command().render_help().to_string();
        assert!(help.starts_with("usage: ntsysv [--level LEVELS]"), "{help}");
        assert!(help.ends_with("2 on errors.\n"), "{help}");
    }

    proptest::proptest! {
        /// Any command line parses or is refused with popt's line, never a panic.
        #[test]
        fn any_command_line_parses_or_is_refused(words in proptest::collection::vec(super::super::COMMAND_WORDS, 0..6)) {
            let line: Vec<&str> = words.iter().map(String::as_str).collect();
            if let Err(e) = parse(&args(&line)) {
                proptest::prop_assert_eq!(e.code, 1);
                proptest::prop_assert!(e.message.contains(": "), "{}", e.message);
            }
        }
    }
}
