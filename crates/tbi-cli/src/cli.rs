//! The command line: commands, arguments and their checks (bad usage exits 2).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The realtime clients of the telemedicine app: TBISocket (Pusher Channels) and the Iris
/// RTC connection.
#[derive(Debug, Parser)]
#[command(name = "tbi", version, about, long_about = None)]
pub(crate) struct Cli {
    /// The async runtime to run on (the same command on either adapter).
    #[arg(long, value_enum, default_value_t = RuntimeChoice::Tokio, global = true)]
    pub(crate) runtime: RuntimeChoice,
    /// More logs on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RuntimeChoice {
    /// `tbi-tokio`.
    Tokio,
    /// `tbi-async-std`.
    AsyncStd,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Runs the seed's flows offline against servers started in this process: a
    /// consultation from the waiting room to its chat (or, with --iris, an incoming call).
    Demo(DemoArgs),
    /// Connects to a Pusher Channels server, subscribes, and prints every event.
    Listen(ListenArgs),
    /// Follows a consultation until its medium is ready (exit 0) or it is closed (exit 3).
    Watch(WatchArgs),
    /// Connects to Iris and prints connection events and incoming-call notifications.
    Iris(IrisArgs),
}

/// `tbi demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Demonstrate the Iris incoming call (notification, then reject) instead.
    #[arg(long)]
    pub(crate) iris: bool,
}

/// Output and time limit, shared by the long-running commands.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// One JSON object per line on stdout, with a `type` field.
    #[arg(long)]
    pub(crate) json: bool,
    /// Give up (exit 1) after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = positive_seconds)]
    pub(crate) timeout: Option<f64>,
    /// Trust the operating system's certificate store (or SSL_CERT_FILE) instead of the
    /// built-in webpki roots, for every TLS connection.
    #[arg(long)]
    pub(crate) native_roots: bool,
    /// The HTTP proxy of every connection, `http://[user:password@]host:port`, instead of
    /// the environment's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
    #[arg(long, value_name = "URL", value_parser = proxy)]
    pub(crate) proxy: Option<tbi_driver::ProxySetting>,
}

fn proxy(url: &str) -> Result<tbi_driver::ProxySetting, String> {
    tbi_driver::ProxySetting::http(url).map_err(|e| e.to_string())
}

impl Common {
    /// The TLS configuration to use: `None` for the default (the webpki roots).
    pub(crate) fn tls(
        &self,
    ) -> Result<Option<std::sync::Arc<tbi_driver::rustls::ClientConfig>>, String> {
        if !self.native_roots {
            return Ok(None);
        }
        tbi_driver::native_tls_config()
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// `tbi listen`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("server").required(true).args(["cluster", "url"]))]
pub(crate) struct ListenArgs {
    /// The app key.
    #[arg(long)]
    pub(crate) key: String,
    /// A hosted cluster, such as `eu`.
    #[arg(long)]
    pub(crate) cluster: Option<String>,
    /// A server URL, `ws[s]://HOST[:PORT]` (self-hosted servers).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// A channel to subscribe to (repeat for more).
    #[arg(long = "channel", value_name = "NAME", required = true)]
    pub(crate) channels: Vec<String>,
    /// The channel auth endpoint (private, presence and encrypted channels).
    #[arg(long, value_name = "URL")]
    pub(crate) auth_endpoint: Option<String>,
    /// A header for auth requests, `'Name: value'` (repeat for more).
    #[arg(long = "auth-header", value_name = "'K: V'", value_parser = header)]
    pub(crate) auth_headers: Vec<(String, String)>,
    /// A form field for auth requests, `name=value` (repeat for more).
    #[arg(long = "auth-param", value_name = "K=V", value_parser = param)]
    pub(crate) auth_params: Vec<(String, String)>,
    /// Exit 0 after this many application events.
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Record the session in the fixture format (frames both ways, auth answers, events;
    /// signatures and secrets redacted), for the replay API and the loopback replay server.
    #[arg(long, value_name = "FILE.jsonl")]
    pub(crate) record: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `tbi watch`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["consultation", "consultation_id"]))]
pub(crate) struct WatchArgs {
    /// A consultation as the API returns it (JSON): its socketParams, pusherChannel and id.
    #[arg(long, value_name = "FILE.json", conflicts_with = "consultation_id")]
    pub(crate) consultation: Option<PathBuf>,
    /// The API base URL (also read from the file's socketParams.authEndpoint).
    #[arg(long, value_name = "URL")]
    pub(crate) api_base: Option<String>,
    /// The user's API token (also read from the file's socketParams.authEndpoint).
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub(crate) token: Option<String>,
    /// Read the token from this file, and again whenever the API or the auth endpoint
    /// refuses it (so a token refreshed mid-wait is picked up).
    #[arg(long, value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,
    /// The consultation to follow.
    #[arg(long, value_name = "ID", requires = "api_base")]
    pub(crate) consultation_id: Option<u64>,
    /// Connect to this Pusher-protocol server instead of the socket parameters' cluster
    /// (self-hosted or test servers).
    #[arg(long, value_name = "URL")]
    pub(crate) ws_url: Option<String>,
    /// Fetch again this often while in progress without a configuration.
    #[arg(long, value_name = "SECS", default_value_t = 2.0, value_parser = positive_seconds)]
    pub(crate) poll_interval: f64,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `tbi iris`.
#[derive(Debug, Args)]
pub(crate) struct IrisArgs {
    /// The event manager: a host name (HTTPS), `host:port`, or an `http(s)://` URL.
    #[arg(long, value_name = "URL")]
    pub(crate) evm_url: String,
    /// The Iris token.
    #[arg(long)]
    pub(crate) token: String,
    /// The user's routing id, `id@domain`.
    #[arg(long, value_name = "RID")]
    pub(crate) routing_id: String,
    /// Exit 0 after this many notifications.
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Reject every incoming call.
    #[arg(long)]
    pub(crate) reject: bool,
    /// Record the session in the fixture format (event-manager answers, frames both ways,
    /// events; the tokens, TURN credentials and room tokens replaced), for the Iris
    /// replay API.
    #[arg(long, value_name = "FILE.jsonl")]
    pub(crate) record: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub(crate) common: Common,
}

fn header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("{name:?} is not a header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

fn param(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not name=value"))?;
    if name.is_empty() {
        return Err(format!("{text:?} has no name"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() && secs < 1e9 => Ok(secs),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_params_and_seconds() {
        assert_eq!(
            header("Authorization: Bearer x:y").unwrap(),
            ("Authorization".into(), "Bearer x:y".into())
        );
        assert!(header("no colon").is_err());
        assert!(header(": v").is_err());
        assert_eq!(param("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(param("=x").is_err());
        assert_eq!(positive_seconds("1.5").unwrap(), 1.5);
        assert!(positive_seconds("0").is_err());
        assert!(positive_seconds("nan").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
