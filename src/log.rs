//! `RX86_LOG`: a small `tracing` subscriber that prints the crates' events on stderr,
//! filtered by target prefix and level in the style of env_logger's `RUST_LOG`.
//!
//! Syntax: comma-separated directives, each `target_prefix=level` or a bare `level`
//! (the default for targets no prefix matches). Levels: `error`, `warn`, `info`,
//! `debug`, `trace`, `off` (any case). A prefix matches a target that starts with it
//! (plain string prefix, as env_logger does: `devices::ide` matches `devices::ide` and
//! `devices::ide2`); the longest matching prefix wins, whatever the order of the
//! directives; a later directive for the same prefix replaces an earlier one.
//! Examples: `RX86_LOG=debug`, `RX86_LOG=warn,devices::ide=trace,rx86::cpu=debug`.
//! Unset or empty: `warn`. An invalid spec prints one warning and falls back to `warn`.
//!
//! An event prints as `LEVEL target: message field=value ...`. Lines end in `\r\n`
//! while the console has the terminal in raw mode (`set_raw_terminal`), `\n` otherwise.
//! Spans are not recorded. The filter is fixed at install, so `register_callsite`
//! answers `always` or `never` once per call site, and `max_level_hint` lets disabled
//! levels be skipped before any call site is consulted.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::{Interest, Subscriber};
use tracing::{span, Event, Metadata};

/// The environment variable holding the filter.
pub const ENV_VAR: &str = "RX86_LOG";

/// Why a filter spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown level {0:?} (use error, warn, info, debug, trace or off)")]
    Level(String),
    #[error("directive {0:?} has an empty target")]
    EmptyTarget(String),
}

/// A parsed `RX86_LOG` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    default: LevelFilter,
    /// (target prefix, level), longest prefix first.
    directives: Vec<(String, LevelFilter)>,
}

impl Default for Filter {
    /// Warnings and errors from every target.
    fn default() -> Self {
        Self {
            default: LevelFilter::WARN,
            directives: Vec::new(),
        }
    }
}

fn parse_level(s: &str) -> Result<LevelFilter, FilterError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "off" => Ok(LevelFilter::OFF),
        "error" => Ok(LevelFilter::ERROR),
        "warn" => Ok(LevelFilter::WARN),
        "info" => Ok(LevelFilter::INFO),
        "debug" => Ok(LevelFilter::DEBUG),
        "trace" => Ok(LevelFilter::TRACE),
        _ => Err(FilterError::Level(s.trim().to_string())),
    }
}

impl Filter {
    /// Parses a spec (see the module docs). Empty parts are skipped.
    pub fn parse(spec: &str) -> Result<Self, FilterError> {
        let mut filter = Filter::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((target, level)) => {
                    let target = target.trim();
                    if target.is_empty() {
                        return Err(FilterError::EmptyTarget(part.to_string()));
                    }
                    let level = parse_level(level)?;
                    filter.directives.retain(|(t, _)| t != target);
                    filter.directives.push((target.to_string(), level));
                }
                None => filter.default = parse_level(part)?,
            }
        }
        // Longest first, so the first match is the most specific one.
        filter
            .directives
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Ok(filter)
    }

    /// The filter `RX86_LOG` asks for: `warn` when unset or empty; an invalid value
    /// prints one warning on stderr and gives `warn`.
    pub fn from_env() -> Self {
        match std::env::var(ENV_VAR) {
            Err(std::env::VarError::NotPresent) => Filter::default(),
            Err(std::env::VarError::NotUnicode(_)) => {
                eprintln!("rx86: {ENV_VAR} is not valid UTF-8; using warn");
                Filter::default()
            }
            Ok(spec) => Filter::parse(&spec).unwrap_or_else(|e| {
                eprintln!("rx86: invalid {ENV_VAR} {spec:?}: {e}; using warn");
                Filter::default()
            }),
        }
    }

    /// The most verbose level enabled for `target`.
    pub fn level_for(&self, target: &str) -> LevelFilter {
        self.directives
            .iter()
            .find(|(prefix, _)| target.starts_with(prefix.as_str()))
            .map_or(self.default, |&(_, level)| level)
    }

    /// Whether an event at `meta`'s level and target passes.
    pub fn enabled(&self, meta: &Metadata<'_>) -> bool {
        *meta.level() <= self.level_for(meta.target())
    }

    /// The most verbose level any target can get.
    pub fn max_level(&self) -> LevelFilter {
        self.directives
            .iter()
            .map(|&(_, level)| level)
            .fold(self.default, LevelFilter::max)
    }
}

/// Set while the console has the terminal in raw mode: lines then end in "\r\n".
static RAW_TERMINAL: AtomicBool = AtomicBool::new(false);

/// Tells the logger whether the terminal is in raw mode (no output post-processing,
/// so a bare "\n" would not return the carriage).
pub fn set_raw_terminal(raw: bool) {
    RAW_TERMINAL.store(raw, Ordering::Relaxed);
}

/// The subscriber: prints enabled events on stderr.
pub struct Logger {
    filter: Filter,
}

impl Logger {
    pub fn new(filter: Filter) -> Self {
        Self { filter }
    }

    /// Formats one event as a line, without the line end.
    pub fn format(event: &Event<'_>) -> String {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = format!("{} {}: {}", meta.level(), meta.target(), fields.message);
        line.push_str(&fields.rest);
        line
    }
}

/// Collects an event's message and its other fields (` name=value` each).
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Logger {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.enabled(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.is_event() && self.filter.enabled(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.filter.max_level())
    }

    fn new_span(&self, _span: &span::Attributes<'_>) -> span::Id {
        // Spans are never enabled, so this is not called; any non-zero id will do.
        span::Id::from_u64(1)
    }

    fn record(&self, _span: &span::Id, _values: &span::Record<'_>) {}

    fn record_follows_from(&self, _span: &span::Id, _follows: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Logger::format(event);
        line.push_str(if RAW_TERMINAL.load(Ordering::Relaxed) {
            "\r\n"
        } else {
            "\n"
        });
        // One write per line, so lines from several threads do not interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn enter(&self, _span: &span::Id) {}

    fn exit(&self, _span: &span::Id) {}
}

/// Installs the `RX86_LOG` logger as the process-wide subscriber (once; later calls
/// do nothing).
pub fn init() {
    let _ = tracing::subscriber::set_global_default(Logger::new(Filter::from_env()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn bare_level_sets_the_default() {
        let f = Filter::parse("debug").unwrap();
        assert_eq!(f.level_for("devices::bus"), LevelFilter::DEBUG);
        assert_eq!(f.max_level(), LevelFilter::DEBUG);
        assert_eq!(Filter::parse("").unwrap(), Filter::default());
        assert_eq!(Filter::default().level_for("x"), LevelFilter::WARN);
        assert_eq!(
            Filter::parse(" TRACE ").unwrap().default,
            LevelFilter::TRACE
        );
        assert_eq!(Filter::parse("off").unwrap().max_level(), LevelFilter::OFF);
    }

    #[test]
    fn most_specific_prefix_wins_in_any_order() {
        for spec in [
            "warn,devices=info,devices::ide=trace,rx86::cpu=debug",
            "devices::ide=trace,rx86::cpu=debug,devices=info,warn",
        ] {
            let f = Filter::parse(spec).unwrap();
            assert_eq!(f.level_for("devices::ide"), LevelFilter::TRACE, "{spec}");
            assert_eq!(f.level_for("devices::ide::atapi"), LevelFilter::TRACE);
            assert_eq!(f.level_for("devices::bus"), LevelFilter::INFO);
            assert_eq!(f.level_for("rx86::cpu::fpu"), LevelFilter::DEBUG);
            assert_eq!(f.level_for("rx86::machine"), LevelFilter::WARN);
            assert_eq!(f.level_for("jit"), LevelFilter::WARN);
            assert_eq!(f.max_level(), LevelFilter::TRACE);
        }
        let f = Filter::parse("debug,devices::pic8259=off").unwrap();
        assert_eq!(f.level_for("devices::pic8259"), LevelFilter::OFF);
        assert_eq!(f.level_for("devices::pit8254"), LevelFilter::DEBUG);
        // A later directive for the same target replaces the earlier one.
        let f = Filter::parse("devices=trace,devices=error").unwrap();
        assert_eq!(f.level_for("devices::bus"), LevelFilter::ERROR);
    }

    #[test]
    fn invalid_specs_are_refused() {
        assert_eq!(
            Filter::parse("debgu"),
            Err(FilterError::Level("debgu".into()))
        );
        assert_eq!(
            Filter::parse("devices::ide=loud"),
            Err(FilterError::Level("loud".into()))
        );
        assert_eq!(
            Filter::parse("warn,=debug"),
            Err(FilterError::EmptyTarget("=debug".into()))
        );
        assert!(
            Filter::parse("warn,,devices=debug,").is_ok(),
            "empty parts skipped"
        );
    }

    /// A writer the test can read back; `Logger` writes to stderr, so the test
    /// formats events through the same `Logger::format`.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<String>>>);

    impl Subscriber for Captured {
        fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
            Logger::new(test_filter()).register_callsite(meta)
        }
        fn enabled(&self, meta: &Metadata<'_>) -> bool {
            Logger::new(test_filter()).enabled(meta)
        }
        fn max_level_hint(&self) -> Option<LevelFilter> {
            Logger::new(test_filter()).max_level_hint()
        }
        fn new_span(&self, _span: &span::Attributes<'_>) -> span::Id {
            span::Id::from_u64(1)
        }
        fn record(&self, _span: &span::Id, _values: &span::Record<'_>) {}
        fn record_follows_from(&self, _span: &span::Id, _follows: &span::Id) {}
        fn event(&self, event: &Event<'_>) {
            if let Ok(mut v) = self.0.lock() {
                v.push(Logger::format(event));
            }
        }
        fn enter(&self, _span: &span::Id) {}
        fn exit(&self, _span: &span::Id) {}
    }

    fn test_filter() -> Filter {
        Filter::parse("info,rx86::log::tests=debug,rx86::log::tests::quiet=error").unwrap()
    }

    #[test]
    fn events_are_filtered_and_formatted() {
        let cap = Captured::default();
        tracing::subscriber::with_default(cap.clone(), || {
            tracing::debug!(port = 0x3b0u16, value = 7u8, "write to an undecoded port");
            tracing::trace!("too verbose");
            tracing::warn!(target: "rx86::log::tests::quiet", "dropped");
            tracing::error!(target: "rx86::log::tests::quiet", name = "x", "kept");
            tracing::info!(target: "devices::bus", "info passes the default");
            tracing::debug!(target: "devices::bus", "debug does not");
        });
        let lines = cap.0.lock().unwrap().clone();
        assert_eq!(
            lines,
            [
                "DEBUG rx86::log::tests: write to an undecoded port port=944 value=7",
                "ERROR rx86::log::tests::quiet: kept name=\"x\"",
                "INFO devices::bus: info passes the default",
            ]
        );
    }

    #[test]
    fn disabled_callsites_are_never_interesting() {
        let logger = Logger::new(Filter::parse("warn,devices=debug").unwrap());
        assert_eq!(logger.max_level_hint(), Some(LevelFilter::DEBUG));
        // Metadata of real call sites, taken through a capturing subscriber.
        struct Metas(Arc<Mutex<Vec<&'static Metadata<'static>>>>);
        impl Subscriber for Metas {
            fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
                if let Ok(mut v) = self.0.lock() {
                    v.push(meta);
                }
                Interest::sometimes()
            }
            fn enabled(&self, _meta: &Metadata<'_>) -> bool {
                false
            }
            fn new_span(&self, _span: &span::Attributes<'_>) -> span::Id {
                span::Id::from_u64(1)
            }
            fn record(&self, _span: &span::Id, _values: &span::Record<'_>) {}
            fn record_follows_from(&self, _span: &span::Id, _follows: &span::Id) {}
            fn event(&self, _event: &Event<'_>) {}
            fn enter(&self, _span: &span::Id) {}
            fn exit(&self, _span: &span::Id) {}
        }
        let metas = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Metas(metas.clone()), || {
            tracing::debug!(target: "devices::vga", "a");
            tracing::debug!(target: "rx86::cpu", "b");
            let _span = tracing::error_span!(target: "devices::vga", "c");
        });
        let metas = metas.lock().unwrap().clone();
        let interest: Vec<(bool, bool)> = metas
            .iter()
            .map(|m| {
                let i = logger.register_callsite(m);
                (i.is_always(), i.is_never())
            })
            .collect();
        assert_eq!(
            interest,
            [(true, false), (false, true), (false, true)],
            "debug passes for devices, not for rx86; spans are never recorded"
        );
    }
}
