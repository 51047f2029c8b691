//! `trailctl policy`: print the bundled custom-role policy, for any
//! integration or rendered for one. Offline: makes no AWS call.

use crate::iam::bundled::{self, Target};
use crate::output::{render_policy, Printer};
use crate::settings::{Global, PolicySettings};

pub fn run(global: &Global, settings: &PolicySettings, printer: &Printer) -> anyhow::Result<()> {
    let target = Target {
        partition: global.region.as_ref().map(|r| r.partition().to_owned()),
        account: settings.account.as_ref().map(|a| a.as_str().to_owned()),
        region: global.region.as_ref().map(|r| r.as_str().to_owned()),
        integration: global.name_given.then(|| global.name.to_string()),
        bucket: settings.bucket_name.as_ref().map(|b| b.as_str().to_owned()),
        ..Target::default()
    };
    if printer.is_json() {
        // Exactly the shipped file when nothing narrows it.
        print!("{}", bundled::render(&target));
        return Ok(());
    }
    let heading = match &target.integration {
        Some(name) => format!("The IAM policy whoever runs trailctl needs, for integration `{name}`:"),
        None => "The IAM policy whoever runs trailctl needs (policies/trailctl-policy.json), for any integration:".to_owned(),
    };
    printer.text(&render_policy(&target, &heading));
    Ok(())
}
