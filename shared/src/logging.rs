//! Log setup: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), plain
//! text on stderr elsewhere (eventctl's output on stdout stays clean for scripts). `RUST_LOG` filters as usual; the default is `info`.
//!
//! Whatever `RUST_LOG` says, the Lambda runtime and the HTTP and AWS client crates log at
//! `info` at most: at debug and trace they print whole invocation events and requests,
//! and those carry webhook access keys (in the path) and bearer tokens.

use tracing_subscriber::filter::Directive;
use tracing_subscriber::EnvFilter;

/// Crates whose debug and trace output quotes secrets.
const QUIET_TARGETS: [&str; 8] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_sdk_dynamodb",
    "hyper",
    "hyper_util",
];

pub fn init() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    // Setting it may fail: tests and the local server may call this more than once.
    let _ = if in_lambda {
        tracing::subscriber::set_global_default(json_subscriber(rust_log.as_deref(), std::io::stdout))
    } else {
        let builder = tracing_subscriber::fmt().with_env_filter(filter(rust_log.as_deref()));
        tracing::subscriber::set_global_default(
            builder.with_ansi(false).with_writer(std::io::stderr).finish(),
        )
    };
}

/// The functions' log format in Lambda, writing to `writer`: one JSON object a line, the
/// event's fields at the top (`status`, `code`, `error`, …) and the request span's (the
/// Lambda and API Gateway request ids, operation, domain) under `spans`.
pub fn json_subscriber<W>(rust_log: Option<&str>, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter(rust_log))
        .with_writer(writer)
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .without_time()
        .finish()
}

/// `RUST_LOG` (or `info`), with the quiet crates held at `info` at most.
fn filter(rust_log: Option<&str>) -> EnvFilter {
    let requested = rust_log.filter(|v| !v.trim().is_empty()).unwrap_or("info");
    let mut filter = EnvFilter::try_new(requested).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in QUIET_TARGETS {
        let quiet: Directive = format!("{target}=info").parse().expect("a target=level directive parses");
        filter = filter.add_directive(quiet);
    }
    filter
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn trace_level_never_lets_the_runtime_print_the_raw_event() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter(Some("trace")))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime", "event /webhook/w/secret-key/events");
            tracing::debug!(target: "aws_smithy_runtime::client", "request body");
            tracing::info!(target: "lambda_runtime", "runtime started");
            tracing::trace!(target: "event_core::store", "our own trace");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("secret-key"), "{text}");
        assert!(!text.contains("request body"), "{text}");
        assert!(text.contains("runtime started"), "{text}");
        assert!(text.contains("our own trace"), "RUST_LOG still applies to our code: {text}");
    }
}
