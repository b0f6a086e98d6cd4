//! Citizen: "Mi consumo". Consumption per billing period (the last 13) as an accessible
//! SVG bar chart — or as a table (`?vista=tabla`, a link, so it works without
//! JavaScript) — with the same period a year earlier and the average of the
//! neighbours; the last 30 days for smart meters. Everything is formatted on the
//! server; the browser keeps the last copy to show it without signal.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::bills::{OfflineBanner, use_online};
use super::lectura::NoSavedAccount;
use crate::api::*;
use crate::error::AppError;
use crate::offline;

#[component]
pub fn CitizenConsumption() -> AnyView {
    let data = Resource::new(|| (), |_| get_consumption());
    let online = use_online();
    view! {
        <Title text="Mi consumo"/>
        <Suspense fallback=|| view! { <p>"Cargando tu consumo…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => {
                        #[cfg(feature = "hydrate")]
                        {
                            let save = v.clone();
                            leptos::task::spawn_local(async move {
                                if offline::is_online() {
                                    offline::save_consumption(&save).await;
                                }
                            });
                        }
                        view! { <ConsumptionPage v online/> }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/entrar"/> }.into_any(),
                    Err(AppError::Offline) => match offline::load_consumption().await {
                        Some(v) => {
                            online.set(false);
                            view! { <ConsumptionPage v online/> }.into_any()
                        }
                        None => view! { <NoSavedAccount/> }.into_any(),
                    },
                    Err(e) => view! {
                        <h1>"Mi consumo"</h1>
                        <p role="alert" class="form-error">{e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

// Chart geometry (SVG user units; the SVG scales to the width of the screen). The
// labels under the bars are HTML (they follow "Letra grande" and are checked like any
// text), in a grid of as many columns as bars, so they line up with them.
const TOP: u32 = 8;
const PLOT: u32 = 180;
/// Bars: at least 3:1 against the white card (WCAG 1.4.11).
const BAR: &str = "#0b5394";
const RUNNING: &str = "#3d7ebf";
const EMPTY: &str = "#8a8a8a";
const INK: &str = "#222222";

fn bar_height(h: u16) -> u32 {
    // Visible even when tiny; at most the plot.
    (u32::from(h) * PLOT / 1000).clamp(2, PLOT)
}

/// "nov 2026" → ("nov", "2026").
fn split_label(l: &str) -> (String, String) {
    match l.split_once(' ') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (l.to_string(), String::new()),
    }
}

fn label_grid(columns: usize) -> String {
    format!(
        "display: grid; grid-template-columns: repeat({columns}, minmax(0, 1fr)); \
         text-align: center; font-size: 0.8rem; line-height: 1.25; margin-top: 0.25rem"
    )
}

#[component]
pub(crate) fn ConsumptionPage(v: ConsumptionView, online: RwSignal<bool>) -> AnyView {
    let query = use_query_map();
    let table = Memo::new(move |_| query.read().get("vista").as_deref() == Some("tabla"));
    let periods = StoredValue::new(v.periods.clone());
    let area_label = v.area_label.clone();
    let chart_desc = v.chart_desc.clone();
    let daily = StoredValue::new(v.daily.clone());
    let daily_desc = v.daily_desc.clone().unwrap_or_default();
    let toggle = move |table_view: bool, label: &'static str, href: &'static str| {
        view! {
            <li>
                <a href=href class="button" aria-current=move || (table.get() == table_view).then_some("page")>
                    {label}
                </a>
            </li>
        }
    };
    view! {
        <OfflineBanner online fetched=v.fetched_at.clone()/>
        <p><a href="/cuenta">"← Mi cuenta"</a></p>
        <h1>"Mi consumo"</h1>
        <p class="lead">"Contrato " <span class="contract-number">{v.number.clone()}</span></p>
        <section class="card" aria-labelledby="h-resumen">
            <h2 id="h-resumen">"Resumen"</h2>
            <ul class="comparison">
                {v.comparison.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}
            </ul>
            {v.has_meter.then(|| view! {
                <p><a class="button primary" href="/cuenta/lectura">"Enviar mi lectura"</a></p>
            })}
        </section>
        <nav class="filters" aria-label="Ver el consumo como">
            <ul>
                {toggle(false, "Gráfica", "/cuenta/consumo")}
                {toggle(true, "Tabla", "/cuenta/consumo?vista=tabla")}
            </ul>
        </nav>
        <section class="card" aria-labelledby="h-periodos">
            <h2 id="h-periodos">"Consumo por periodo"</h2>
            {move || if table.get() {
                view! { <PeriodTable rows=periods.get_value() area_label=area_label.clone()/> }.into_any()
            } else {
                view! { <PeriodChart rows=periods.get_value() desc=chart_desc.clone() area=area_label.is_some()/> }.into_any()
            }}
        </section>
        {move || daily.get_value().map(|days| {
            let desc = daily_desc.clone();
            view! {
                <section class="card" aria-labelledby="h-dias">
                    <h2 id="h-dias">"Últimos 30 días"</h2>
                    <p class="small">"Tu medidor envía lecturas solo; así ves cada día."</p>
                    {if table.get() {
                        view! { <DayTable days/> }.into_any()
                    } else {
                        view! { <DayChart days desc/> }.into_any()
                    }}
                </section>
            }
        })}
    }
    .into_any()
}

/// The periods as bars: `role="img"` with a title and a description (range, highest,
/// lowest), each bar with its own text (`<title>`); month and value under each bar.
/// The table is the full text alternative.
#[component]
fn PeriodChart(rows: Vec<ConsumptionPeriod>, desc: String, area: bool) -> impl IntoView {
    const SLOT: u32 = 44;
    let columns = rows.len().max(1);
    let width = SLOT * columns as u32;
    let base = TOP + PLOT;
    let height = base + 2;
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = i as u32 * SLOT + 7;
            let w = SLOT - 14;
            let mut alt = match &p.m3 {
                Some(m) => format!("{}: {m}", p.long_label),
                None => format!("{}: sin lectura", p.long_label),
            };
            if p.current {
                alt.push_str(" (periodo en curso)");
            }
            if let Some(a) = &p.area {
                alt.push_str(&format!("; promedio de tus vecinos: {a}"));
            }
            let fill = match (&p.m3, p.current) {
                (None, _) => EMPTY,
                (Some(_), true) => RUNNING,
                (Some(_), false) => BAR,
            };
            let h = if p.m3.is_some() {
                bar_height(p.height)
            } else {
                2
            };
            view! {
                <g class="bar">
                    <rect x=x y={base - h} width=w height=h fill=fill>
                        <title>{alt}</title>
                    </rect>
                    {p.area_height.map(|ah| {
                        let y = base - bar_height(ah);
                        view! {
                            <line x1={x.saturating_sub(4)} x2={x + w + 4} y1=y y2=y stroke=INK stroke-width="3"/>
                        }
                    })}
                </g>
            }
        })
        .collect_view();
    let labels = rows
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (month, year) = split_label(&p.label);
            let show_year = i == 0 || month == "ene";
            let value =
                p.m3.clone()
                    .map(|m| m.trim_end_matches(" m³").to_string())
                    .unwrap_or_else(|| "–".into());
            view! {
                <span>
                    <span style="display: block; font-weight: 600">{value}</span>
                    <span style="display: block">{month}</span>
                    {show_year.then(|| view! { <span style="display: block">{year}</span> })}
                </span>
            }
        })
        .collect_view();
    view! {
        <div class="chart" style="max-width: 44rem">
            <svg role="img" aria-labelledby="grafica-periodos-titulo"
                aria-describedby="grafica-periodos-desc"
                viewBox=format!("0 0 {width} {height}") width="100%" preserveAspectRatio="xMidYMid meet"
                style="height: auto; display: block">
                <title id="grafica-periodos-titulo">"Consumo por periodo, en metros cúbicos"</title>
                <desc id="grafica-periodos-desc">{desc}</desc>
                <line x1="0" x2=width y1=base y2=base stroke=INK stroke-width="1"/>
                {bars}
            </svg>
            <div class="chart-labels" aria-hidden="true" style=label_grid(columns)>{labels}</div>
        </div>
        <ul class="legend small">
            <li>"Barras azules: tu consumo en m³ de cada periodo; la de tono más claro es el periodo en curso."</li>
            {area.then(|| view! { <li>"Raya negra: el promedio de tus vecinos."</li> })}
            <li>"Barra gris y guion: periodo sin lectura."</li>
        </ul>
    }
}

#[component]
fn PeriodTable(rows: Vec<ConsumptionPeriod>, area_label: Option<String>) -> impl IntoView {
    let has_area = area_label.is_some();
    view! {
        <table class="consumption-data">
            <caption>"Consumo por periodo, en metros cúbicos"</caption>
            <thead>
                <tr>
                    <th scope="col">"Periodo"</th>
                    <th scope="col">"Tu consumo"</th>
                    <th scope="col">"Un año antes"</th>
                    {area_label.map(|l| view! { <th scope="col">{format!("Promedio de {l}")}</th> })}
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().rev().map(|p| view! {
                    <tr>
                        <th scope="row">{p.long_label.clone()}{p.current.then_some(" (en curso)")}</th>
                        <td>{p.m3.clone().unwrap_or_else(|| "Sin lectura".into())}</td>
                        <td>{p.last_year.clone().unwrap_or_else(|| "Sin lectura".into())}</td>
                        {has_area.then(|| view! { <td>{p.area.clone().unwrap_or_else(|| "Sin datos".into())}</td> })}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn DayChart(days: Vec<ConsumptionDay>, desc: String) -> impl IntoView {
    const SLOT: u32 = 16;
    let columns = days.len().max(1);
    let width = SLOT * columns as u32;
    let base = TOP + PLOT;
    let height = base + 2;
    let last = days.len().saturating_sub(1);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = i as u32 * SLOT + 2;
            let w = SLOT - 4;
            let h = if d.m3.is_some() {
                bar_height(d.height)
            } else {
                2
            };
            let alt = match &d.litres {
                Some(l) => format!("{}: {l}", d.long_label),
                None => format!("{}: sin lecturas", d.long_label),
            };
            let fill = if d.m3.is_some() { BAR } else { EMPTY };
            view! {
                <rect x=x y={base - h} width=w height=h fill=fill>
                    <title>{alt}</title>
                </rect>
            }
        })
        .collect_view();
    // A date under every seventh bar, counting back from today.
    let labels = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let shown = (last - i).is_multiple_of(7);
            view! {
                <span style="white-space: nowrap; overflow: visible">
                    {shown.then(|| d.label.clone())}
                </span>
            }
        })
        .collect_view();
    view! {
        <div class="chart" style="max-width: 44rem">
            <svg role="img" aria-labelledby="grafica-dias-titulo" aria-describedby="grafica-dias-desc"
                viewBox=format!("0 0 {width} {height}") width="100%" preserveAspectRatio="xMidYMid meet"
                style="height: auto; display: block">
                <title id="grafica-dias-titulo">"Consumo por día, últimos 30 días"</title>
                <desc id="grafica-dias-desc">{desc}</desc>
                <line x1="0" x2=width y1=base y2=base stroke=INK stroke-width="1"/>
                {bars}
            </svg>
            <div class="chart-labels" aria-hidden="true" style=label_grid(columns)>{labels}</div>
        </div>
    }
}

#[component]
fn DayTable(days: Vec<ConsumptionDay>) -> impl IntoView {
    view! {
        <table class="consumption-days">
            <caption>"Consumo por día, últimos 30 días"</caption>
            <thead><tr><th scope="col">"Día"</th><th scope="col">"Consumo"</th></tr></thead>
            <tbody>
                {days.into_iter().rev().map(|d| view! {
                    <tr>
                        <th scope="row">{d.long_label.clone()}</th>
                        <td>{d.m3.clone().unwrap_or_else(|| "Sin lecturas".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
