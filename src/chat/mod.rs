//! The frontend-neutral conversation pipeline: routing, memory, limits,
//! fallbacks. Discord and the terminal frontends call into it.

mod frontend;
pub mod limits;
pub mod memory;
pub mod messages;
pub mod prompt;
pub mod router;
mod service;
mod turn;
mod types;

pub use frontend::*;
pub use service::ChatService;
pub use types::*;
