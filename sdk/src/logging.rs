//! Logs on stderr through `tracing`, in singer-sdk's text layout or its structured JSON, and
//! Singer `METRIC` lines.
//!
//! Text (the default):
//! `2026-11-22 22:53:09,892 | INFO     | tap-csv                        | Stream finished. stream=customers`
//!
//! JSON (set `<PLUGIN>_LOG_FORMAT=json`, `SINGER_SDK_LOG_FORMAT=json`, or run under Meltano
//! with structured logging) has the fields Meltano's singer-sdk log parser reads: `level`,
//! `pid`, `logger_name`, `ts`, `thread_name`, `app_name`, `message`, `extra`, and
//! `metric_info` on metric lines.

use std::fmt::{self, Write as _};

use serde::Serialize;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Target of metric events.
pub const METRICS_TARGET: &str = "singer_sdk.metrics";

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `time | LEVEL | logger | message key=value`.
    Text,
    /// One JSON object per line, in singer-sdk's structured-log shape.
    Json,
}

/// Installs the stderr subscriber for a connector named `plugin`. Safe to call twice (the
/// second call does nothing).
///
/// Level: `RUST_LOG` if set (full `EnvFilter` syntax), else `<PLUGIN>_LOGLEVEL`, else
/// `LOGLEVEL`, else the root level of the logging config Meltano passes in
/// `SINGER_SDK_LOG_CONFIG` (so `meltano --log-level=debug` reaches the connector), else
/// `info`. Format: see [`LogFormat`] and the module docs.
pub fn init(plugin: &str) {
    let meltano = MeltanoLogging::from_env();
    let format = detect_format(plugin, &meltano);
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => tracing_subscriber::EnvFilter::new(spec),
        _ => {
            let level = std::env::var(crate::settings::env_var_name(plugin, "LOGLEVEL"))
                .or_else(|_| std::env::var("LOGLEVEL"))
                .ok()
                .or(meltano.level)
                .unwrap_or_else(|| "info".to_owned())
                .to_ascii_lowercase();
            let level = match level.as_str() {
                "critical" | "fatal" => "error".to_owned(),
                "warning" => "warn".to_owned(),
                other => other.to_owned(),
            };
            tracing_subscriber::EnvFilter::try_new(&level)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .event_format(SingerFormat {
            format,
            app_name: plugin.to_owned(),
        })
        .try_init();
}

fn detect_format(plugin: &str, meltano: &MeltanoLogging) -> LogFormat {
    let wants_json = |var: String| std::env::var(var).is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    if wants_json(crate::settings::env_var_name(plugin, "LOG_FORMAT"))
        || wants_json("SINGER_SDK_LOG_FORMAT".to_owned())
        || meltano.structured
    {
        LogFormat::Json
    } else {
        LogFormat::Text
    }
}

/// What the logging config Meltano hands singer-sdk connectors asks for: `SINGER_SDK_LOG_CONFIG`
/// names a Python `logging.config.dictConfig` JSON file whose formatter is
/// `singer_sdk.logging.StructuredFormatter` when the plugin declares `structured-logging`,
/// and whose `root.level` is Meltano's own level.
#[derive(Debug, Default)]
struct MeltanoLogging {
    structured: bool,
    level: Option<String>,
}

impl MeltanoLogging {
    fn from_env() -> Self {
        std::env::var_os("SINGER_SDK_LOG_CONFIG")
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> Self {
        let level = serde_json::from_str::<Value>(text).ok().and_then(|config| {
            config
                .pointer("/root/level")
                .and_then(Value::as_str)
                .filter(|level| !level.eq_ignore_ascii_case("notset"))
                .map(str::to_owned)
        });
        MeltanoLogging {
            structured: text.contains("StructuredFormatter"),
            level,
        }
    }
}

/// A Singer metric, logged as `METRIC: {...}`.
#[derive(Debug, Clone, Serialize)]
pub struct Metric<'a> {
    /// `counter` or `timer`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `record_count`, `sync_duration`, `http_request_duration`, ...
    pub metric: &'static str,
    /// The count, or the duration in seconds.
    pub value: Value,
    /// `stream`, `context`, `status`, `pid`, ...
    pub tags: &'a Map<String, Value>,
}

impl Metric<'_> {
    /// Logs the metric at INFO on the metrics target.
    pub fn emit(&self) {
        let json = serde_json::to_string(self).unwrap_or_default();
        tracing::info!(target: METRICS_TARGET, metric_info = json.as_str(), "METRIC");
    }
}

/// Record counts of one stream (or partition).
#[derive(Debug, Clone)]
pub struct RecordCount<'a> {
    /// The stream.
    pub stream: &'a str,
    /// The partition context, if any.
    pub context: Option<&'a Map<String, Value>>,
    /// Records emitted.
    pub count: u64,
}

impl RecordCount<'_> {
    /// Emits the `record_count` counter.
    pub fn emit(&self) {
        let tags = tags(self.stream, self.context, None);
        Metric {
            kind: "counter",
            metric: "record_count",
            value: Value::from(self.count),
            tags: &tags,
        }
        .emit();
    }
}

/// How long one stream (or partition) took to sync.
#[derive(Debug, Clone)]
pub struct SyncDuration<'a> {
    /// The stream.
    pub stream: &'a str,
    /// The partition context, if any.
    pub context: Option<&'a Map<String, Value>>,
    /// Seconds.
    pub seconds: f64,
    /// Whether it succeeded.
    pub succeeded: bool,
}

impl SyncDuration<'_> {
    /// Emits the `sync_duration` timer.
    pub fn emit(&self) {
        let status = if self.succeeded {
            "succeeded"
        } else {
            "failed"
        };
        let tags = tags(self.stream, self.context, Some(status));
        Metric {
            kind: "timer",
            metric: "sync_duration",
            value: Value::from(self.seconds),
            tags: &tags,
        }
        .emit();
    }
}

fn tags(
    stream: &str,
    context: Option<&Map<String, Value>>,
    status: Option<&str>,
) -> Map<String, Value> {
    let mut tags = Map::new();
    tags.insert("stream".to_owned(), Value::from(stream));
    tags.insert("pid".to_owned(), Value::from(std::process::id()));
    tags.insert(
        "context".to_owned(),
        Value::Object(context.cloned().unwrap_or_default()),
    );
    if let Some(status) = status {
        tags.insert("status".to_owned(), Value::from(status));
    }
    tags
}

struct SingerFormat {
    format: LogFormat,
    app_name: String,
}

#[derive(Default)]
struct Fields {
    message: String,
    metric_info: Option<String>,
    extra: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "metric_info" => self.metric_info = Some(value.to_owned()),
            name => {
                self.extra.insert(name.to_owned(), Value::from(value));
            }
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.extra
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.extra
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.extra
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.extra
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.extra
                .insert(field.name().to_owned(), Value::from(text));
        }
    }
}

impl<S, N> FormatEvent<S, N> for SingerFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(formatted) =
                    extensions.get::<tracing_subscriber::fmt::FormattedFields<N>>()
                {
                    for pair in formatted.fields.split(' ').filter(|p| !p.is_empty()) {
                        if let Some((key, value)) = pair.split_once('=') {
                            fields
                                .extra
                                .entry(key.to_owned())
                                .or_insert_with(|| Value::from(value.trim_matches('"')));
                        }
                    }
                }
            }
        }
        let meta = event.metadata();
        let logger = if meta.target() == METRICS_TARGET {
            METRICS_TARGET.to_owned()
        } else if meta.target().starts_with("singer_sdk") {
            "singer_sdk".to_owned()
        } else {
            self.app_name.clone()
        };
        let now = chrono::Local::now();
        match self.format {
            LogFormat::Text => {
                let mut line = format!(
                    "{} | {:8} | {:30} | {}",
                    now.format("%Y-%m-%d %H:%M:%S,%3f"),
                    level_name(*meta.level()),
                    logger,
                    fields.message
                );
                if let Some(metric) = &fields.metric_info {
                    line.push_str(": ");
                    line.push_str(metric);
                }
                for (key, value) in &fields.extra {
                    match value {
                        Value::String(s) => write!(line, " {key}={s}")?,
                        other => write!(line, " {key}={other}")?,
                    }
                }
                writeln!(writer, "{line}")
            }
            LogFormat::Json => {
                let mut object = Map::new();
                object.insert(
                    "level".to_owned(),
                    Value::from(level_name(*meta.level()).to_ascii_lowercase()),
                );
                object.insert("pid".to_owned(), Value::from(std::process::id()));
                object.insert("logger_name".to_owned(), Value::from(logger));
                object.insert(
                    "ts".to_owned(),
                    Value::from(now.timestamp_micros() as f64 / 1e6),
                );
                object.insert(
                    "thread_name".to_owned(),
                    Value::from(std::thread::current().name().unwrap_or("main").to_owned()),
                );
                object.insert("app_name".to_owned(), Value::from(self.app_name.clone()));
                if let Some(Value::String(stream)) = fields.extra.get("stream") {
                    object.insert("stream_name".to_owned(), Value::from(stream.clone()));
                }
                object.insert("message".to_owned(), Value::from(fields.message));
                if let Some(metric) = fields.metric_info {
                    let metric = serde_json::from_str(&metric).unwrap_or(Value::from(metric));
                    object.insert("metric_info".to_owned(), metric);
                }
                object.insert("extra".to_owned(), Value::Object(fields.extra));
                writeln!(writer, "{}", Value::Object(object))
            }
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

#[cfg(test)]
mod tests {
    use super::MeltanoLogging;

    #[test]
    fn reads_format_and_level_from_meltanos_logging_config() {
        // As Meltano 4.4.1 writes it for a plugin with `structured-logging` under
        // `meltano --log-level=debug`.
        let config = r#"{
  "version": 1,
  "disable_existing_loggers": false,
  "formatters": {"singer_formatter": {"()": "singer_sdk.logging.StructuredFormatter"}},
  "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "singer_formatter",
                           "stream": "ext://sys.stderr"}},
  "root": {"handlers": ["console"], "level": "DEBUG"}
}"#;
        let parsed = MeltanoLogging::parse(config);
        assert!(parsed.structured);
        assert_eq!(parsed.level.as_deref(), Some("DEBUG"));
        let plain = MeltanoLogging::parse(
            r#"{"formatters": {"f": {"format": "%(message)s"}}, "root": {"level": "NOTSET"}}"#,
        );
        assert!(!plain.structured);
        assert_eq!(plain.level, None);
        assert_eq!(MeltanoLogging::parse("not json").level, None);
    }
}
