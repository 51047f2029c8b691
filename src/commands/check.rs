//! `trailctl check`: the permission preflight alone, against everything
//! trailctl can call for this integration. Changes nothing.

use serde::Serialize;

use crate::aws::Clients;
use crate::exit::Stopped;
use crate::output::{render_preflight, Printer};
use crate::preflight::{self, Report};
use crate::settings::{CheckSettings, Global};

#[derive(Debug, Serialize)]
struct CheckReport<'a> {
    integration: &'a str,
    account: &'a str,
    region: &'a str,
    #[serde(flatten)]
    preflight: &'a Report,
}

pub async fn run(
    global: &Global,
    settings: &CheckSettings,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<()> {
    let caller = super::caller(clients, printer).await?;
    let names = super::names_for(global, clients, &caller, settings.bucket_name.as_ref());
    let report = preflight::check(clients, &caller, &preflight::for_everything(&names)).await?;
    if printer.is_json() {
        printer.json(&CheckReport {
            integration: names.integration.as_str(),
            account: &names.account,
            region: &names.region,
            preflight: &report,
        });
    } else {
        printer.text(&format!(
            "Checking what trailctl may call for integration `{}` in account {}, home region {}:",
            names.integration, names.account, names.region
        ));
        printer.text(&render_preflight(&report));
    }
    if report.passed() {
        Ok(())
    } else {
        Err(Stopped::PermissionDenied(format!(
            "{} of {} calls would be refused",
            report.findings.len(),
            report.checked
        ))
        .into())
    }
}
