//! Scans that survive a dropped network. With JavaScript, a scan is written
//! to the device's storage first and then sent; when the network is down it
//! waits there, the screen counts what is pending, and the queue is sent in
//! order once the network is back (on the browser's `online` event, and on
//! a retry every few seconds while anything waits). Each queued scan keeps
//! the key it was given when it was made, and the server answers a key it
//! has seen with its first answer, so a scan sent twice is applied once.
//! Without JavaScript the scan form posts as usual.

use crate::problem::Problem;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the server said to one queued scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanAnswer {
    pub accepted: bool,
    pub message: String,
}

/// The screens whose scans queue: picking a wave, receiving a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    #[default]
    Pick,
    Receive,
}

#[cfg(feature = "hydrate")]
impl Flow {
    /// The screen's path under `/floor`.
    pub fn path(self) -> &'static str {
        match self {
            Flow::Pick => "pick",
            Flow::Receive => "receive",
        }
    }
}

#[server(prefix = "/sfn", endpoint = "queued_scan")]
pub async fn queued_scan(
    flow: Flow,
    target: String,
    code: String,
    key: String,
) -> Result<ScanAnswer, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    // Bound to the flow and its wave or delivery too: the same key queued
    // for another target is refused, never answered with this one's result.
    let bound = match flow {
        Flow::Pick => format!("pick-scan {target}"),
        Flow::Receive => format!("receive-scan {target}"),
    };
    let idem =
        backend::Idempotency::new(&key, &bound, code.as_bytes()).map_err(crate::ssr::fail)?;
    let input = backend::fulfillment::ScanInput { code };
    let (accepted, message) = match flow {
        Flow::Pick => {
            let o = backend::fulfillment::pick_scan(&db, &ctx, &target, input, Some(&idem))
                .await
                .map_err(crate::ssr::fail)?;
            (o.accepted, o.message)
        }
        Flow::Receive => {
            let o = backend::receiving::receive_scan(&db, &ctx, &target, input, Some(&idem))
                .await
                .map_err(crate::ssr::fail)?;
            (o.accepted, o.message)
        }
    };
    Ok(ScanAnswer { accepted, message })
}

/// What a floor screen shows as its last answer (`name` is `error` or
/// `notice`): the one the scan queue left for this page after sending, or
/// the address's own (a form's redirect, which the server signed).
pub fn answer(name: &'static str) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let from_address = crate::components::query_param(name);
    let left = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(text) = client::take_answer(name) {
            left.set(text);
        }
    });
    move || {
        let l = left.get();
        if l.is_empty() {
            from_address()
        } else {
            l
        }
    }
}

/// Scans waiting on this device, counted for the screen.
#[derive(Clone, Copy)]
pub struct Pending(pub RwSignal<usize>);

/// Starts the queue for a screen: counts what waits, and sends it now, when
/// the network returns, and every few seconds while anything waits.
pub fn start() -> Pending {
    let pending = Pending(RwSignal::new(0));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| client::start(pending));
    pending
}

/// The scan form's submit: queue the scan, then send the queue.
pub fn submit(
    ev: leptos::ev::SubmitEvent,
    flow: Flow,
    target: &str,
    input: NodeRef<leptos::html::Input>,
    pending: Pending,
) {
    #[cfg(feature = "hydrate")]
    client::submit(ev, flow, target, input, pending);
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, flow, target, input, pending);
}

/// "3 scans waiting to sync", while any do.
pub fn pending_notice(pending: Pending) -> impl IntoView {
    move || {
        let n = pending.0.get();
        (n > 0).then(|| {
            view! {
                <p role="status" aria-live="polite" class="mb-4 rounded-xl border-4 border-amber-400 bg-amber-900 p-5 text-2xl">
                    {format!(
                        "{n} scan{} waiting to sync. They are kept on this device and sent in order when the network is back.",
                        if n == 1 { "" } else { "s" }
                    )}
                </p>
            }
        })
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::Cell;

    use leptos::{prelude::*, task::spawn_local};
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::{closure::Closure, JsCast};

    use super::{queued_scan, Flow, Pending, Problem, ScanAnswer};
    use crate::components::url::urlencode;

    const STORE: &str = "keel.floor.scan-queue";
    const RETRY_MS: i32 = 3000;

    /// One scan waiting on the device. `wave` names the target for every
    /// flow, so scans queued before receiving existed still send.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Queued {
        #[serde(default)]
        flow: Flow,
        wave: String,
        code: String,
        key: String,
    }

    thread_local! {
        static SENDING: Cell<bool> = const { Cell::new(false) };
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    fn load() -> Vec<Queued> {
        storage()
            .and_then(|s| s.get_item(STORE).ok().flatten())
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default()
    }

    fn save(q: &[Queued]) {
        if let (Some(s), Ok(j)) = (storage(), serde_json::to_string(q)) {
            let _ = s.set_item(STORE, &j);
        }
    }

    /// A key unique to this scan on this device.
    fn new_key() -> String {
        format!(
            "scan-{}-{}",
            js_sys::Date::now() as u64,
            (js_sys::Math::random() * 1e15) as u64
        )
    }

    pub fn start(pending: Pending) {
        pending.0.set(load().len());
        // Says the queue is live, for tests that go offline.
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-scan-queue", "ready");
        }
        if let Some(w) = web_sys::window() {
            let online = Closure::<dyn FnMut()>::new(move || spawn_local(send(pending)));
            let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
            online.forget();
            let retry = Closure::<dyn FnMut()>::new(move || {
                if pending.0.get_untracked() > 0 {
                    spawn_local(send(pending));
                }
            });
            let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
                retry.as_ref().unchecked_ref(),
                RETRY_MS,
            );
            retry.forget();
        }
        if pending.0.get_untracked() > 0 {
            spawn_local(send(pending));
        }
    }

    pub fn submit(
        ev: leptos::ev::SubmitEvent,
        flow: Flow,
        target: &str,
        input: NodeRef<leptos::html::Input>,
        pending: Pending,
    ) {
        ev.prevent_default();
        let Some(field) = input.get_untracked() else {
            return;
        };
        let code = field.value().trim().to_string();
        if code.is_empty() {
            return;
        }
        // Stored before it is sent: a scan the device accepted is never lost.
        let mut q = load();
        q.push(Queued {
            flow,
            wave: target.to_string(),
            code,
            key: new_key(),
        });
        save(&q);
        pending.0.set(q.len());
        field.set_value("");
        let _ = field.focus();
        spawn_local(send(pending));
    }

    /// Sends the queue in order until it is empty or the network fails, then
    /// reloads the wave with what the server said.
    async fn send(pending: Pending) {
        if SENDING.with(|s| s.replace(true)) {
            return;
        }
        let mut answers: Vec<ScanAnswer> = Vec::new();
        let mut wave = None;
        while let Some(first) = load().first().cloned() {
            let answer = match queued_scan(
                first.flow,
                first.wave.clone(),
                first.code.clone(),
                first.key.clone(),
            )
            .await
            {
                Ok(a) => a,
                // No answer: the network is down; the scan stays queued.
                Err(Problem::Unreachable(_)) => break,
                // An answer that is an error (the wave was finished
                // elsewhere, say) is still an answer: the scan is done.
                Err(e) => ScanAnswer {
                    accepted: false,
                    message: e.to_string(),
                },
            };
            let mut q = load();
            q.retain(|x| x.key != first.key);
            save(&q);
            pending.0.set(q.len());
            answers.push(answer);
            wave = Some((first.flow, first.wave));
        }
        SENDING.with(|s| s.set(false));
        let Some((flow, target)) = wave else { return };
        let refused: Vec<&ScanAnswer> = answers.iter().filter(|a| !a.accepted).collect();
        let last = answers
            .last()
            .map(|a| a.message.as_str())
            .unwrap_or_default();
        let (param, text) = match (answers.len(), refused.first()) {
            (1, _) => (
                if refused.is_empty() {
                    "notice"
                } else {
                    "error"
                },
                last.to_string(),
            ),
            (n, None) => ("notice", format!("Synced {n} queued scans. {last}")),
            (n, Some(r)) => (
                "error",
                format!(
                    "Synced {n} queued scans; {} refused: {}",
                    refused.len(),
                    r.message
                ),
            ),
        };
        // The answer waits in this tab's session storage for the screen it
        // opens: text in the address would be dropped, as only messages the
        // server signed are shown from there.
        let path = format!("/floor/{}/{}", flow.path(), urlencode(&target));
        if let Some(session) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
            let _ = session.set_item(FLASH, &format!("{path}\n{param}\n{text}"));
        }
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_href(&path);
        }
    }

    const FLASH: &str = "keel.floor.answer";

    /// Takes the queue's answer named `name` if it was left for this page.
    pub fn take_answer(name: &str) -> Option<String> {
        let w = web_sys::window()?;
        let session = w.session_storage().ok().flatten()?;
        let stored = session.get_item(FLASH).ok().flatten()?;
        let mut parts = stored.splitn(3, '\n');
        let (path, param, text) = (parts.next()?, parts.next()?, parts.next()?);
        let here = w.location().pathname().ok()?;
        if param != name || path != here {
            return None;
        }
        let _ = session.remove_item(FLASH);
        Some(text.to_string())
    }
}
