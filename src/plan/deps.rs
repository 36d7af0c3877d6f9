//! The LSB dependency graph: which service must run before which, from the scripts'
//! headers (`Required-Start`, `Should-Start`, `X-Start-Before`, the `Stop` forms),
//! `$facility` names resolved through `insserv.conf`, and `$all`. One graph for both of
//! its users: the priority solver of chkconfig and update-rc.d (which numbers links so
//! that a sequential rc runs them in this order), and the parallel rc executor (which
//! starts a script as soon as what it needs has finished).
//!
//! Edges are given in execution order, `(after, before)`: `before` finishes before
//! `after` begins. Starting, a service runs after what it requires; stopping, it runs
//! before what it requires (that is still needed while it stops), so the stop graph is
//! the start graph reversed.

use std::collections::{BTreeMap, BTreeSet};

use crate::format::facilities::Facilities;
use crate::format::header::Dependencies;

/// Which order: starting services or stopping them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Start,
    Stop,
}

impl Kind {
    /// "starts" / "stops", for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Kind::Start => "starts",
            Kind::Stop => "stops",
        }
    }

    /// The letter of its links.
    pub fn letter(self) -> char {
        match self {
            Kind::Start => 'S',
            Kind::Stop => 'K',
        }
    }
}

/// A service as the graph sees it.
pub trait Service {
    /// The names it answers to: its own, then its `Provides` (may include `$facility`).
    fn provides(&self) -> &[String];
    fn deps(&self) -> &Dependencies;
}

/// Names resolved to the services that provide them.
pub struct Graph<'a, S: Service> {
    services: &'a [S],
    facilities: Option<&'a Facilities>,
    /// name → indices of the services answering to it.
    by_name: BTreeMap<&'a str, Vec<usize>>,
}

impl<'a, S: Service> Graph<'a, S> {
    pub fn new(services: &'a [S], facilities: Option<&'a Facilities>) -> Graph<'a, S> {
        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, service) in services.iter().enumerate() {
            for name in service.provides() {
                let list = by_name.entry(name.as_str()).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        Graph {
            services,
            facilities,
            by_name,
        }
    }

    /// The services providing a name or a facility (through `Provides` or insserv.conf,
    /// facilities of facilities included).
    pub fn providers(&self, dep: &str) -> Vec<usize> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo = vec![dep];
        while let Some(name) = todo.pop() {
            if !seen.insert(name) {
                continue;
            }
            out.extend(self.by_name.get(name).into_iter().flatten().copied());
            if name.starts_with('$') {
                if let Some(f) = self.facilities {
                    todo.extend(f.members(name).iter().map(String::as_str));
                }
            }
        }
        out.into_iter().collect()
    }

    /// `(after, before)` pairs of one order, between the services for which `part` is
    /// true; no self-loops.
    pub fn edges(&self, kind: Kind, part: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
        let mut edges = BTreeSet::new();
        for (i, service) in self.services.iter().enumerate().filter(|(i, _)| part(*i)) {
            let d = service.deps();
            let (needs, reverse): (Vec<&String>, &Vec<String>) = match kind {
                Kind::Start => (
                    d.required_start.iter().chain(&d.should_start).collect(),
                    &d.start_before,
                ),
                Kind::Stop => (
                    d.required_stop.iter().chain(&d.should_stop).collect(),
                    &d.stop_after,
                ),
            };
            for dep in needs {
                if dep == "$all" {
                    let all =
                        (0..self.services.len()).filter(|j| part(*j) && !self.wants_all(*j, kind));
                    for j in all {
                        edges.insert(pair(kind, i, j, false));
                    }
                    continue;
                }
                for p in self.providers(dep).into_iter().filter(|p| part(*p)) {
                    edges.insert(pair(kind, i, p, false));
                }
            }
            for dep in reverse {
                for p in self.providers(dep).into_iter().filter(|p| part(*p)) {
                    edges.insert(pair(kind, i, p, true));
                }
            }
        }
        edges.into_iter().filter(|(a, b)| a != b).collect()
    }

    /// `$all` in its own list: it comes after everything else, not before.
    fn wants_all(&self, i: usize, kind: Kind) -> bool {
        let d = self.services[i].deps();
        let list = match kind {
            Kind::Start => [&d.required_start, &d.should_start],
            Kind::Stop => [&d.required_stop, &d.should_stop],
        };
        list.iter().any(|l| l.iter().any(|n| n == "$all"))
    }
}

/// The edge for "`service` depends on `other`". Starting: service after other.
/// Stopping: service stops before other, so other after service. `reverse` flips it
/// (the X-Start-Before / X-Stop-After forms, declared by the other side).
fn pair(kind: Kind, service: usize, other: usize, reverse: bool) -> (usize, usize) {
    match (kind, reverse) {
        (Kind::Start, false) | (Kind::Stop, true) => (service, other),
        (Kind::Start, true) | (Kind::Stop, false) => (other, service),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Svc {
        provides: Vec<String>,
        deps: Dependencies,
    }

    impl Service for Svc {
        fn provides(&self) -> &[String] {
            &self.provides
        }
        fn deps(&self) -> &Dependencies {
            &self.deps
        }
    }

    fn svc(name: &str, also: &[&str], deps: Dependencies) -> Svc {
        let mut provides = vec![name.to_string()];
        provides.extend(also.iter().map(|s| s.to_string()));
        Svc { provides, deps }
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn start_edges_follow_requirements_facilities_and_x_start_before() {
        let mut facilities = Facilities::default();
        facilities.add_file("$remote_fs $local_fs mountnfs\n");
        let services = vec![
            svc("mountall", &["$local_fs"], Dependencies::default()),
            svc("mountnfs", &[], Dependencies::default()),
            svc(
                "cron",
                &[],
                Dependencies {
                    required_start: words(&["$remote_fs"]),
                    required_stop: words(&["$remote_fs"]),
                    ..Dependencies::default()
                },
            ),
            svc(
                "early",
                &[],
                Dependencies {
                    start_before: words(&["cron"]),
                    ..Dependencies::default()
                },
            ),
            svc(
                "last",
                &[],
                Dependencies {
                    required_start: words(&["$all"]),
                    ..Dependencies::default()
                },
            ),
        ];
        let graph = Graph::new(&services, Some(&facilities));
        assert_eq!(graph.providers("$remote_fs"), [0, 1]);
        let start = graph.edges(Kind::Start, |_| true);
        for edge in [(2, 0), (2, 1), (2, 3), (4, 0), (4, 1), (4, 2), (4, 3)] {
            assert!(start.contains(&edge), "{edge:?} missing from {start:?}");
        }
        assert_eq!(start.len(), 7);
        // Stopping, cron goes first: the file systems are still needed.
        let stop = graph.edges(Kind::Stop, |_| true);
        assert_eq!(stop, [(0, 2), (1, 2)]);
        // Only the services taking part.
        assert_eq!(graph.edges(Kind::Stop, |i| i != 1), [(0, 2)]);
    }
}
