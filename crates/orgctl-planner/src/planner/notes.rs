//! Phase 11: what orgctl leaves alone (OUs, accounts and policies it does not manage) is noted.

use std::collections::{HashMap, HashSet};

use orgctl_model::is_managed;

use super::{Output, Planner};

impl Planner<'_> {
    /// Notes on unmanaged resources, given the live OUs the plan deletes.
    pub(super) fn unmanaged_notes(&self, deleted_ous: &HashSet<String>, out: &mut Output) {
        // Managed policies attached to each live OU and account (orgctl leaves those of targets the
        // YAML does not declare alone).
        let mut managed_on: HashMap<&str, Vec<String>> = HashMap::new();
        for p in &self.live.policies {
            if p.aws_managed
                || !(self.desired.policies.contains_key(&p.name) || is_managed(&p.tags))
            {
                continue;
            }
            for t in &p.targets {
                managed_on.entry(t.as_str()).or_default().push(format!(
                    "{}/{}",
                    p.policy_type.short(),
                    p.name
                ));
            }
        }
        let mut stays_on = |id: &str| match managed_on.get_mut(id) {
            Some(names) => {
                names.sort();
                format!(
                    "; policies orgctl manages stay attached to it: {}",
                    names.join(", ")
                )
            }
            None => String::new(),
        };
        for ou in &self.live.ous {
            if !self.matched.claimed_ous.contains(&ou.id)
                && !deleted_ous.contains(&ou.id)
                && !is_managed(&ou.tags)
            {
                out.note(
                    format!("ou {}", self.index.path(&ou.id)),
                    format!(
                        "OU {} is not managed by orgctl (no managed-by tag, not in the YAML) — \
                         left in place{}",
                        ou.id,
                        stays_on(&ou.id)
                    ),
                );
            }
        }
        let followers: HashSet<&str> = self
            .matched
            .replaced_by
            .keys()
            .flat_map(|old| self.index.accounts_in(old))
            .map(|a| a.id.as_str())
            .collect();
        for account in &self.live.accounts {
            if !self
                .matched
                .matched_accounts
                .contains_key(account.id.as_str())
            {
                let follows = if followers.contains(account.id.as_str()) {
                    " (moves with its replaced OU)"
                } else {
                    ""
                };
                let policies = stays_on(&account.id);
                out.note(
                    format!("account {}", account.name),
                    format!(
                        "account {} ({}) in {} is not in the YAML — not managed, left in \
                         place{follows}{policies}",
                        account.id,
                        account.email,
                        self.index.path(&account.parent_id)
                    ),
                );
            }
        }
        for p in &self.live.policies {
            if !p.aws_managed
                && !self.desired.policies.contains_key(&p.name)
                && !is_managed(&p.tags)
            {
                // Attachments to OUs the plan deletes end with them (a replaced OU's move to its
                // replacement first).
                let mut fates = Vec::new();
                for t in &p.targets {
                    if !deleted_ous.contains(t) {
                        continue;
                    }
                    let path = self.index.path(t);
                    fates.push(match self.matched.replaced_by.get(t) {
                        Some(new_path) => format!(
                            "its attachment to {path} is carried over to {new_path}, which \
                             replaces that OU"
                        ),
                        None => {
                            format!("its attachment to {path} ends when that empty OU is deleted")
                        }
                    });
                }
                let message = if fates.is_empty() && self.live.scope.is_some() {
                    // A scoped read knows its attachments only on what it read.
                    format!(
                        "policy {} is not managed by orgctl — left in place with its \
                         attachment(s)",
                        p.id
                    )
                } else if fates.is_empty() {
                    format!(
                        "policy {} is not managed by orgctl — left in place with its {} \
                         attachment(s)",
                        p.id,
                        p.targets.len()
                    )
                } else {
                    fates.sort();
                    format!(
                        "policy {} is not managed by orgctl — left in place; {}",
                        p.id,
                        fates.join("; ")
                    )
                };
                out.note(
                    format!("policy {}/{}", p.policy_type.short(), p.name),
                    message,
                );
            }
        }
        if let Some(scope) = &self.live.scope {
            self.scope_note(scope, out);
        }
    }

    /// The one note of a scoped read: how much it did not read (nothing there is planned).
    fn scope_note(&self, scope: &orgctl_model::LiveScope, out: &mut Output) {
        let (accounts, ous) = (scope.unread_accounts, scope.unwalked_ous.len());
        if accounts == 0 && ous == 0 {
            return;
        }
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if accounts > 0 {
            parts.push(format!(
                "{} the YAML does not name",
                plural(accounts, "account", "accounts")
            ));
        }
        if ous > 0 {
            parts.push(format!(
                "what lies below {} outside what the YAML manages",
                plural(ous, "OU", "OUs")
            ));
        }
        out.note(
            "organization".to_owned(),
            format!(
                "not read, as the YAML does not manage it: {} (nothing is planned there; run \
                 `orgctl drift` for a full report)",
                parts.join(", and ")
            ),
        );
    }
}
