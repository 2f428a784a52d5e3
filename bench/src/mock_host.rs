//! Runs the mock LLM server on an OS thread of its own, with its own
//! single-threaded tokio runtime, so its CPU time can be told apart from
//! the bot's: everything the mock does (TLS, HTTP/2, JSON) happens on that
//! one thread, whose CPU clock [`MockHost::cpu`] reads. The fake Discord
//! of `--discord` runs there too.

use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::sys::ThreadClock;
use duet_testkit::mock_llm::MockLlm;

/// The mock's thread and runtime; mocks started on it stop when dropped.
pub struct MockHost {
    handle: tokio::runtime::Handle,
    clock: Option<ThreadClock>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockHost {
    /// Starts the thread and its runtime.
    pub fn start() -> std::io::Result<MockHost> {
        let (ready, started) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mock-llm".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the mock's runtime starts");
                let _ = ready.send((runtime.handle().clone(), ThreadClock::current()));
                // Driving this future is what runs every task spawned on the mock.
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        let (handle, clock) = started
            .recv()
            .map_err(|_| std::io::Error::other("the mock thread died at start"))?;
        Ok(MockHost {
            handle,
            clock,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// A new mock server (TLS + ALPN when `tls`) served from the mock thread.
    pub async fn launch(&self, tls: bool) -> MockLlm {
        self.run(async move {
            if tls {
                MockLlm::start_tls().await
            } else {
                MockLlm::start().await
            }
        })
        .await
    }

    /// Runs `task` on the mock's thread (tasks it spawns stay there, so
    /// their CPU is the mock's, not the bot's).
    pub async fn run<F>(&self, task: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle
            .spawn(task)
            .await
            .expect("a task on the mock thread finishes")
    }

    /// CPU time the mock's thread has used so far.
    pub fn cpu(&self) -> Duration {
        self.clock.map_or(Duration::ZERO, ThreadClock::elapsed)
    }
}

impl Drop for MockHost {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
