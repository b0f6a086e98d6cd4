//! Browser entry point (`cdylib`): hydrate the server-rendered HTML, register the Rust
//! service worker that keeps the app usable offline, and send the meter readings the
//! phone kept without signal (now, and whenever the signal comes back).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    app::offline::register_service_worker();
    app::offline::start_self_read_sync();
}
