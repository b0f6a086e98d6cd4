//! Browser entry point (`cdylib`): hydrate the server-rendered HTML, then register the
//! Rust service worker that keeps the app usable offline.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    app::offline::register_service_worker();
}
