//! Rules across targets: policies per target (FullAWSAccess included where it stays) and no
//! target left without an SCP.

use orgctl_model::{FULL_AWS_ACCESS, PolicyType, TargetRef};

use super::accounts::Accounts;
use super::checker::Checker;
use super::ous::Ous;
use super::policies::{Attachment, Policies};
use super::type_words;
use crate::load::Item;

/// Checks the targets of every policy against `limit` and the SCP each target needs.
pub(super) fn check(
    checker: &mut Checker<'_>,
    limit: u32,
    ous: &Ous<'_>,
    accounts: &Accounts<'_>,
    policies: &Policies,
) {
    let parsed = checker.parsed;
    let (ou_info, account_info) = (&ous.info, &accounts.info);
    let attachments = &policies.attachments;
    let root_setting = parsed
        .organizations
        .first()
        .and_then(|o| Some((o.file, o.raw.value.root_full_aws_access.as_ref()?)));
    let root_keeps_full = root_setting.is_none_or(|(_, f)| f.value);
    // Policies per target, FullAWSAccess included where it stays.
    let keeps_full = |t: &TargetRef| match t {
        TargetRef::Root => root_keeps_full,
        TargetRef::Ou(path) => ou_info.get(path.as_str()).is_none_or(|o| o.full_aws_access),
        TargetRef::Account(name) => account_info
            .get(name.as_str())
            .is_none_or(|a| a.full_aws_access),
    };
    let mut over: Vec<(&(TargetRef, PolicyType), &Vec<Attachment>)> = attachments
        .iter()
        .filter(|((t, ty), list)| {
            let full = usize::from(*ty == PolicyType::ServiceControlPolicy && keeps_full(t));
            list.len() + full > limit as usize
        })
        .collect();
    over.sort_by(|a, b| a.0.cmp(b.0));
    for ((target, ty), list) in over {
        let full = usize::from(*ty == PolicyType::ServiceControlPolicy && keeps_full(target));
        let total = list.len() + full;
        let first_over = (limit as usize).saturating_sub(full).min(list.len() - 1);
        let Attachment { at, field } = &list[first_over];
        let counted = if full == 1 {
            format!("{} here + {FULL_AWS_ACCESS}", list.len())
        } else {
            format!("{} here", list.len())
        };
        checker.error(
            at.clone(),
            field.clone(),
            format!(
                "{target} would have {total} {} attached ({counted}), more than \
                 organization.policies_per_target_limit ({limit})",
                type_words(*ty)
            ),
        );
    }

    // No target left without an SCP (unknowable when a policy could not be read).
    let has_scp = |t: TargetRef| attachments.contains_key(&(t, PolicyType::ServiceControlPolicy));
    if let Some((file, setting)) = root_setting
        && !setting.value
        && !parsed.broken.policies
        && !has_scp(TargetRef::Root)
    {
        checker.error(
            checker.at(file, setting),
            "organization.root_full_aws_access",
            format!(
                "the root drops {FULL_AWS_ACCESS} but no service control policy here targets \
                 `root`; AWS requires at least one SCP on the root"
            ),
        );
    }
    for Item { file, index, raw } in &parsed.ous {
        let Some(full_aws_access) = &raw.value.full_aws_access else {
            continue;
        };
        let path = raw.value.path.value.as_str();
        if !full_aws_access.value
            && !parsed.broken.policies
            && ous.specs.contains_key(path)
            && !has_scp(TargetRef::Ou(path.to_owned()))
        {
            checker.error(
                checker.at(*file, full_aws_access),
                format!("ous[{index}].full_aws_access"),
                format!(
                    "OU `{path}` drops {FULL_AWS_ACCESS} but no service control policy here \
                     targets it; AWS requires at least one SCP on every OU"
                ),
            );
        }
    }
    for (item_no, Item { file, index, raw }) in parsed.accounts.iter().enumerate() {
        let Some(full_aws_access) = &raw.value.full_aws_access else {
            continue;
        };
        let name = raw.value.name.value.as_str();
        let known = account_info.get(name).is_some_and(|a| a.item == item_no);
        if !full_aws_access.value
            && known
            && !parsed.broken.policies
            && !has_scp(TargetRef::Account(name.to_owned()))
        {
            checker.error(
                checker.at(*file, full_aws_access),
                format!("accounts[{index}].full_aws_access"),
                format!(
                    "account `{name}` drops {FULL_AWS_ACCESS} but no service control policy \
                     here targets it; AWS requires at least one SCP on every account"
                ),
            );
        }
    }
}
