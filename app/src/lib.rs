//! SUPRA Water web app: Leptos components, pages and server functions.
//! Rendered on the server (`ssr`) and hydrated in the browser (`hydrate`).

#![recursion_limit = "256"]

pub mod api;
pub mod card;
pub mod error;
pub mod offline;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use pages::*;

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="es-MX">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/supra.css"/>
        <Link rel="manifest" href="/manifest.webmanifest"/>
        <Link rel="icon" type_="image/png" sizes="32x32" href="/icons/favicon-32.png"/>
        <Link rel="apple-touch-icon" href="/icons/apple-touch-icon.png"/>
        <Meta name="theme-color" content="#0b5394"/>
        <Meta name="description" content="Consulta tu saldo y tus recibos de agua, paga y reporta fugas."/>
        <Title formatter=|t: String| if t.is_empty() { "Mi Agua · CEA Querétaro".to_string() } else { format!("{t} · Mi Agua") }/>
        <Router>
            <a class="skip" href="#contenido">"Saltar al contenido"</a>
            <Header/>
            <main id="contenido" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("") view=Home/>
                    <Route path=path!("entrar") view=CitizenLogin/>
                    <Route path=path!("cuenta") view=CitizenDashboard ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/agregar") view=LinkContract/>
                    <Route path=path!("cuenta/recibos") view=CitizenBills ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/pagar") view=CitizenPay ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/pagar/tarjeta") view=CardReturn ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/pagos") view=CitizenPayments ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/recibos/:id") view=CitizenBill ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/lectura") view=CitizenSelfRead ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/lectura/recibida") view=CitizenSelfReadReceipt ssr=SsrMode::Async/>
                    <Route path=path!("cuenta/consumo") view=CitizenConsumption ssr=SsrMode::Async/>
                    <Route path=path!("sin-conexion") view=OfflinePage/>
                    <Route path=path!("personal/entrar") view=StaffLogin/>
                    <Route path=path!("personal") view=StaffSearch ssr=SsrMode::Async/>
                    <Route path=path!("personal/cuentas/:id") view=StaffAccount ssr=SsrMode::Async/>
                    <Route path=path!("personal/recibos/:id") view=StaffInvoice ssr=SsrMode::Async/>
                    <Route path=path!("personal/tarifas") view=StaffTariffs ssr=SsrMode::Async/>
                    <Route path=path!("personal/tarifas/editar") view=TariffEditor ssr=SsrMode::Async/>
                    <Route path=path!("personal/facturacion") view=StaffBilling ssr=SsrMode::Async/>
                    <Route path=path!("personal/facturacion/corridas/:id") view=BillingRunPage ssr=SsrMode::Async/>
                    <Route path=path!("personal/cfdi") view=StaffCfdiList ssr=SsrMode::Async/>
                    <Route path=path!("personal/cfdi/:id") view=StaffCfdi ssr=SsrMode::Async/>
                    <Route path=path!("personal/pagos") view=StaffUnmatched ssr=SsrMode::Async/>
                    <Route path=path!("personal/caja") view=StaffCash ssr=SsrMode::Async/>
                    <Route path=path!("personal/conciliacion") view=StaffReconciliation ssr=SsrMode::Async/>
                    <Route path=path!("personal/domiciliacion") view=StaffDomiciliacion ssr=SsrMode::Async/>
                    <Route path=path!("personal/lecturas") view=StaffIngest ssr=SsrMode::Async/>
                    <Route path=path!("personal/lecturas/lotes/:id") view=StaffRouteBatch ssr=SsrMode::Async/>
                    <Route path=path!("personal/medidores/:id") view=StaffMeter ssr=SsrMode::Async/>
                    <Route path=path!("personal/anomalias") view=StaffAnomalies ssr=SsrMode::Async/>
                    <Route path=path!("personal/legado") view=StaffLegacy ssr=SsrMode::Async/>
                </Routes>
            </main>
            <InstallBanner/>
            <footer class="site-footer">
                <p>"Comisión Estatal de Aguas de Querétaro · Atención a usuarios"</p>
            </footer>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let large = RwSignal::new(false);
    Effect::new(move |_| large.set(offline::large_text_saved()));
    let toggle = move |_| {
        let v = !large.get_untracked();
        large.set(v);
        offline::set_large_text(v);
    };
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <img src="/icons/favicon-32.png" alt="" width="32" height="32"/>
                <span>"Mi Agua"</span>
            </a>
            <button type="button" class="text-toggle" aria-pressed=move || large.get().to_string() on:click=toggle>
                "Letra grande"
            </button>
        </header>
    }
}

#[component]
fn InstallBanner() -> impl IntoView {
    let show = RwSignal::new(false);
    Effect::new(move |_| offline::on_install_available(move || show.set(true)));
    view! {
        <Show when=move || show.get()>
            <aside class="install" aria-label="Instalar la aplicación">
                <p>"Instala Mi Agua en tu teléfono para consultar tu cuenta aunque no tengas señal."</p>
                <div class="actions">
                    <button type="button" class="primary" on:click=move |_| { offline::prompt_install(); show.set(false); }>"Instalar"</button>
                    <button type="button" on:click=move |_| show.set(false)>"Ahora no"</button>
                </div>
            </aside>
        </Show>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Página no encontrada"/>
        <h1>"No encontramos esa página"</h1>
        <p><a href="/">"Ir al inicio"</a></p>
    }
}
