//! Why the Discord client could not start or had to stop, in words an
//! operator can act on: serenity says "Error while sending HTTP request" for
//! a DNS failure, so the cause is read from the error and its sources and
//! named with its fix. Also the exit status `duet run` ends with.

use std::error::Error as _;
use std::fmt;

use serenity::gateway::GatewayError;
use serenity::http::HttpError;

/// Why the Discord frontend could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("no Discord token: set DISCORD_TOKEN under [Discord] or in the environment")]
    MissingToken,
    #[error("could not connect to Discord: {}", explain(.0))]
    Start(#[source] Box<serenity::Error>),
    #[error("the Discord gateway connection ended: {}", explain(.0))]
    Gateway(#[source] Box<serenity::Error>),
    #[error("the shard settings do not fit this bot: {0}")]
    Shards(#[from] crate::config::ShardError),
}

/// Exit status of a configuration or start-up problem (the operator must act).
pub const EXIT_SETUP: u8 = 2;
/// Exit status of a failure after start (a restart may help).
pub const EXIT_FAILURE: u8 = 1;

/// The cause of a failed start, when it can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Discord answered 401 or closed the gateway with 4004.
    TokenRejected,
    /// Close code 4014: a privileged intent is not enabled for the bot.
    IntentsNotEnabled,
    /// Close code 4013: the intents value itself is invalid.
    IntentsInvalid,
    /// The host name did not resolve.
    Dns,
    /// Nothing listens at the address (or a firewall rejects it).
    Refused,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The connection or the answer took too long.
    Timeout,
}

impl Cause {
    /// Reads the cause from serenity's error and every error below it.
    pub fn of(error: &serenity::Error) -> Option<Cause> {
        match error {
            serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
                return Some(Cause::TokenRejected);
            }
            serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
                return Some(Cause::IntentsNotEnabled);
            }
            serenity::Error::Gateway(GatewayError::InvalidGatewayIntents) => {
                return Some(Cause::IntentsInvalid);
            }
            serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
                if response.status_code.as_u16() == 401 =>
            {
                return Some(Cause::TokenRejected);
            }
            _ => {}
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = source {
            if let Some(cause) = Self::of_one(current) {
                return Some(cause);
            }
            source = current.source();
        }
        None
    }

    fn of_one(error: &(dyn std::error::Error + 'static)) -> Option<Cause> {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Some(Cause::Refused),
                std::io::ErrorKind::TimedOut => return Some(Cause::Timeout),
                _ => {}
            }
        }
        if let Some(http) = error.downcast_ref::<reqwest::Error>()
            && http.is_timeout()
        {
            return Some(Cause::Timeout);
        }
        let text = error.to_string().to_ascii_lowercase();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            Some(Cause::Dns)
        } else if text.contains("connection refused") {
            Some(Cause::Refused)
        } else if text.contains("certificate") || text.contains("tls") {
            Some(Cause::Tls)
        } else {
            None
        }
    }

    /// What the operator should do about it.
    pub fn fix(self) -> &'static str {
        match self {
            Cause::TokenRejected => {
                "Discord rejected the token: copy a current one from the developer portal (Bot > Reset Token) into DISCORD_TOKEN"
            }
            Cause::IntentsNotEnabled => {
                "Discord refused the intents (close code 4014): enable Message Content Intent under Bot > Privileged Gateway Intents in the developer portal"
            }
            Cause::IntentsInvalid => {
                "Discord refused the intents value (close code 4013): this duet asks for intents Discord does not know; update duet"
            }
            Cause::Dns => {
                "the Discord host name did not resolve: check the machine's DNS and network, and API_BASE_URL if set"
            }
            Cause::Refused => {
                "the connection to Discord was refused: check API_BASE_URL if set, firewalls and outbound proxies"
            }
            Cause::Tls => {
                "the TLS connection to Discord failed: check the system clock, TLS_CA_FILE and any intercepting proxy"
            }
            Cause::Timeout => {
                "Discord did not answer in time: check the network and outbound firewalls"
            }
        }
    }

    /// Problems the operator must fix before a restart can help.
    pub fn needs_the_operator(self) -> bool {
        !matches!(self, Cause::Timeout)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.fix())
    }
}

/// `error` with its cause and fix first, then every source it has.
pub fn explain(error: &serenity::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        let text = current.to_string();
        if !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = current.source();
    }
    match Cause::of(error) {
        Some(cause) => format!("{cause} ({chain})"),
        None => chain,
    }
}

impl DiscordError {
    /// The exit status of `duet run` after this error: 2 for anything the
    /// operator must fix (no or a rejected token, shard settings that do
    /// not fit, intents, an unreachable
    /// Discord at start), 1 when the gateway failed otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            DiscordError::MissingToken | DiscordError::Start(_) | DiscordError::Shards(_) => {
                EXIT_SETUP
            }
            DiscordError::Gateway(error) => match Cause::of(error) {
                Some(cause) if cause.needs_the_operator() => EXIT_SETUP,
                _ => EXIT_FAILURE,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_explain_what_to_do() {
        assert!(
            DiscordError::MissingToken
                .to_string()
                .contains("DISCORD_TOKEN")
        );
    }

    #[test]
    fn fatal_gateway_close_codes_name_their_fix_and_exit_2() {
        for (error, cause, words) in [
            (
                GatewayError::InvalidAuthentication,
                Cause::TokenRejected,
                "DISCORD_TOKEN",
            ),
            (
                GatewayError::DisallowedGatewayIntents,
                Cause::IntentsNotEnabled,
                "Message Content Intent",
            ),
        ] {
            let error = serenity::Error::Gateway(error);
            assert_eq!(Cause::of(&error), Some(cause));
            assert!(explain(&error).contains(words), "{}", explain(&error));
            assert_eq!(
                DiscordError::Gateway(Box::new(error)).exit_code(),
                EXIT_SETUP
            );
        }
    }

    #[test]
    fn io_errors_deep_in_the_chain_are_found() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error = serenity::Error::Io(refused);
        assert_eq!(Cause::of(&error), Some(Cause::Refused));
        let dns = std::io::Error::other("dns error: failed to lookup address information");
        assert_eq!(Cause::of(&serenity::Error::Io(dns)), Some(Cause::Dns));
        let other = serenity::Error::Other("something else");
        assert_eq!(Cause::of(&other), None);
        assert_eq!(
            DiscordError::Gateway(Box::new(other)).exit_code(),
            EXIT_FAILURE
        );
    }
}
