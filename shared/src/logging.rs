//! Log setup: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), plain
//! text on a terminal. `RUST_LOG` filters as usual; the default is `info`.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    // try_init: tests and the local server may call this more than once.
    let _ = if in_lambda {
        builder.json().flatten_event(true).with_current_span(false).without_time().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}
