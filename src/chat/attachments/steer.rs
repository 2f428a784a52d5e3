//! What attachments change about a turn: where a message with images goes
//! (the chat model, unless the user asked for the web), and the notes
//! shown after the answer (left-out attachments, images the model cannot
//! see, told once per conversation).

use super::compose::has_image_marker;
use super::input::Attachments;
use crate::chat::messages;
use crate::chat::router::{Outcome, Reason, Route};
use crate::chat::types::Turn;
use crate::providers::ProviderKind;

/// A message with images goes to the chat model, unless the web was asked
/// for explicitly (`search:`, `/search`), forced by MODE, or is the only provider.
pub fn steer_images(mut route: Route, attachments: &Attachments) -> Route {
    let insisted = route.reasons.iter().any(|reason| {
        matches!(
            reason,
            Reason::Explicit(_) | Reason::Forced(_) | Reason::OnlyProvider(_)
        )
    });
    if attachments.images.is_empty() || route.provider == ProviderKind::OpenAi || insisted {
        return route;
    }
    route.provider = ProviderKind::OpenAi;
    if route.outcome == Outcome::Web {
        route.outcome = Outcome::Chat;
    }
    route.reasons.insert(0, Reason::Images);
    route
}

/// How the turn's images are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageUse {
    /// None came with the message.
    NoImages,
    /// Sent to the chat model.
    Sent,
    /// The chat model does not take images.
    VisionOff,
    /// The web answers, which sees text only.
    WebAnswers,
}

impl ImageUse {
    pub fn of(attachments: &Attachments, vision: bool, provider: ProviderKind) -> Self {
        if attachments.images.is_empty() {
            ImageUse::NoImages
        } else if provider != ProviderKind::OpenAi {
            ImageUse::WebAnswers
        } else if vision {
            ImageUse::Sent
        } else {
            ImageUse::VisionOff
        }
    }
}

/// The lines shown after the answer: one per left-out attachment, then
/// why the images were not seen (vision off: only the first time images
/// come up in the conversation), then `failover` if any.
pub fn notes(
    attachments: &Attachments,
    images: ImageUse,
    history: &[Turn],
    failover: Option<&str>,
) -> Option<String> {
    let mut lines: Vec<String> = attachments
        .problems
        .iter()
        .map(|problem| problem.user_line())
        .collect();
    match images {
        ImageUse::VisionOff if !history.iter().any(|turn| has_image_marker(&turn.question)) => {
            lines.push(messages::IMAGES_NOT_SUPPORTED.to_string());
        }
        ImageUse::WebAnswers => lines.push(messages::WEB_SEES_NO_IMAGES.to_string()),
        _ => {}
    }
    lines.extend(failover.map(str::to_string));
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::attachments::input::ImageAttachment;
    use crate::chat::attachments::problems::{Problem, ProblemKind};
    use crate::providers::ImageInput;

    fn with_image() -> Attachments {
        Attachments {
            images: vec![ImageAttachment {
                name: "cat.png".into(),
                image: ImageInput {
                    media_type: "image/png",
                    bytes: bytes::Bytes::from_static(b"x"),
                },
            }],
            ..Attachments::default()
        }
    }

    fn route(provider: ProviderKind, outcome: Outcome, reasons: Vec<Reason>) -> Route {
        Route {
            outcome,
            provider,
            reasons,
            question: "q".into(),
        }
    }

    #[test]
    fn images_take_a_web_guess_to_chat_but_not_an_explicit_request() {
        let guessed = route(
            ProviderKind::Perplexity,
            Outcome::Web,
            vec![Reason::TimeSensitive("today".into())],
        );
        let steered = steer_images(guessed.clone(), &with_image());
        assert_eq!(steered.provider, ProviderKind::OpenAi);
        assert_eq!(steered.outcome, Outcome::Chat);
        assert_eq!(steered.reasons[0], Reason::Images);
        assert_eq!(
            steer_images(guessed.clone(), &Attachments::default()),
            guessed
        );

        let asked = route(
            ProviderKind::Perplexity,
            Outcome::Web,
            vec![Reason::Explicit("search:".into())],
        );
        assert_eq!(steer_images(asked.clone(), &with_image()), asked);
    }

    #[test]
    fn vision_off_is_told_once_and_problems_always() {
        let mut attachments = with_image();
        attachments
            .problems
            .push(Problem::new("big.png", ProblemKind::Animated));
        let first = notes(&attachments, ImageUse::VisionOff, &[], None).expect("notes");
        assert_eq!(first.lines().count(), 2);
        assert!(first.ends_with(messages::IMAGES_NOT_SUPPORTED));

        let earlier = Turn {
            user_id: "u".into(),
            question: "look [image: cat.png]".into(),
            answer: "a".into(),
            provider: ProviderKind::OpenAi,
            model: "m".into(),
            at: 1,
        };
        let later = notes(
            &with_image(),
            ImageUse::VisionOff,
            &[earlier],
            Some("fell back"),
        );
        assert_eq!(later.as_deref(), Some("fell back"));
        assert_eq!(notes(&with_image(), ImageUse::Sent, &[], None), None);
    }
}
