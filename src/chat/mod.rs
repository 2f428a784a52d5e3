//! The frontend-neutral conversation pipeline: routing, memory, limits,
//! fallbacks. Discord and the terminal frontends call into it.

mod account;
mod admission;
pub mod attachments;
mod budget;
mod frontend;
mod housekeeping;
pub mod limits;
pub mod live;
pub mod memory;
pub mod messages;
pub mod prompt;
pub mod router;
mod service;
pub mod settings;
mod settings_service;
mod turn;
mod types;

pub use frontend::*;
pub use service::ChatService;
pub use types::*;
