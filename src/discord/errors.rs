//! Discord errors: [`DiscordError`] for starting and running the client, and
//! the logging of failed REST calls (missing permissions, unknown channels,
//! rate limits) with enough context to fix them. A failed call never
//! crashes the handler: it is logged here and turned into a [`SendFailed`].

use serenity::all::Permissions;
use serenity::http::HttpError;
use serenity::model::ModelError;
use tracing::{debug, warn};

use super::stream::SendFailed;

/// What the bot was doing when a call failed; says which permissions it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SendMessage,
    EditMessage,
    DeleteMessage,
    Typing,
    InteractionResponse,
    RegisterCommands,
}

impl Action {
    /// The channel permissions the action needs (for the log when Discord
    /// answers "Missing Permissions" without saying which).
    pub fn needs(self) -> &'static str {
        match self {
            Action::SendMessage => {
                "VIEW_CHANNEL, SEND_MESSAGES (SEND_MESSAGES_IN_THREADS in threads), READ_MESSAGE_HISTORY (replies)"
            }
            Action::Typing => "VIEW_CHANNEL, SEND_MESSAGES",
            Action::EditMessage | Action::DeleteMessage => "VIEW_CHANNEL",
            Action::InteractionResponse => "none (interaction token)",
            Action::RegisterCommands => "the applications.commands scope in the invite",
        }
    }
}

/// How a failed call is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    MissingPermissions,
    MissingAccess,
    UnknownChannel,
    UnknownMessage,
    UnknownInteraction,
    RateLimited,
    Rejected,
    Network,
}

impl FailureKind {
    /// From the HTTP status and Discord's JSON error code.
    pub fn from_response(status: u16, code: i64) -> Self {
        match (status, code) {
            (_, 50013 | 160002) => FailureKind::MissingPermissions,
            (_, 50001) => FailureKind::MissingAccess,
            (_, 10003) => FailureKind::UnknownChannel,
            (_, 10008) => FailureKind::UnknownMessage,
            (_, 10062 | 10015) => FailureKind::UnknownInteraction,
            (429, _) | (_, 20028) => FailureKind::RateLimited,
            (403, _) => FailureKind::MissingPermissions,
            _ => FailureKind::Rejected,
        }
    }

    /// Whether later calls for the same reply would fail the same way.
    pub fn outcome(self) -> SendFailed {
        match self {
            FailureKind::RateLimited | FailureKind::Rejected | FailureKind::Network => {
                SendFailed::Transient
            }
            _ => SendFailed::Fatal,
        }
    }
}

/// Logs a failed call with its context and says whether to keep trying.
pub fn report(action: Action, channel: u64, error: &serenity::Error) -> SendFailed {
    match error {
        serenity::Error::Model(ModelError::InvalidPermissions { required, present }) => {
            warn!(
                ?action,
                channel,
                missing = %permission_names(*required - *present),
                "the bot lacks permissions in this channel; grant them to its role"
            );
            SendFailed::Fatal
        }
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            let status = response.status_code.as_u16();
            let code = i64::try_from(response.error.code).unwrap_or_default();
            let kind = FailureKind::from_response(status, code);
            log_rejection(action, channel, kind, status, code, &response.error.message);
            kind.outcome()
        }
        other => {
            warn!(?action, channel, error = %other, "Discord call failed");
            FailureKind::Network.outcome()
        }
    }
}

fn log_rejection(
    action: Action,
    channel: u64,
    kind: FailureKind,
    status: u16,
    code: i64,
    message: &str,
) {
    match kind {
        FailureKind::MissingPermissions => warn!(
            ?action,
            channel,
            status,
            code,
            discord_message = message,
            needs = action.needs(),
            "missing permissions; the bot's role needs the listed permissions in this channel"
        ),
        FailureKind::MissingAccess => warn!(
            ?action,
            channel,
            status,
            code,
            discord_message = message,
            "missing access: the bot cannot see this channel (VIEW_CHANNEL)"
        ),
        FailureKind::UnknownChannel | FailureKind::UnknownMessage => debug!(
            ?action,
            channel,
            status,
            code,
            ?kind,
            "the channel or message is gone"
        ),
        FailureKind::RateLimited => warn!(
            ?action,
            channel, status, code, "rate limited by Discord; this update is skipped"
        ),
        _ => warn!(
            ?action,
            channel,
            status,
            code,
            discord_message = message,
            ?kind,
            "Discord rejected a call"
        ),
    }
}

fn permission_names(permissions: Permissions) -> String {
    let names = permissions.get_permission_names();
    if names.is_empty() {
        "unknown".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_error_codes_map_to_kinds() {
        assert_eq!(
            FailureKind::from_response(403, 50013),
            FailureKind::MissingPermissions
        );
        assert_eq!(
            FailureKind::from_response(400, 160002),
            FailureKind::MissingPermissions
        );
        assert_eq!(
            FailureKind::from_response(403, 50001),
            FailureKind::MissingAccess
        );
        assert_eq!(
            FailureKind::from_response(404, 10003),
            FailureKind::UnknownChannel
        );
        assert_eq!(FailureKind::from_response(429, 0), FailureKind::RateLimited);
        assert_eq!(FailureKind::from_response(500, 0), FailureKind::Rejected);
    }

    #[test]
    fn only_passing_problems_are_worth_a_retry() {
        assert_eq!(FailureKind::RateLimited.outcome(), SendFailed::Transient);
        assert_eq!(FailureKind::Rejected.outcome(), SendFailed::Transient);
        assert_eq!(FailureKind::MissingPermissions.outcome(), SendFailed::Fatal);
        assert_eq!(FailureKind::UnknownChannel.outcome(), SendFailed::Fatal);
    }

    #[test]
    fn missing_permissions_are_named() {
        let required = Permissions::SEND_MESSAGES | Permissions::VIEW_CHANNEL;
        let present = Permissions::VIEW_CHANNEL;
        assert_eq!(permission_names(required - present), "Send Messages");
        assert_eq!(permission_names(Permissions::empty()), "unknown");
    }
}
