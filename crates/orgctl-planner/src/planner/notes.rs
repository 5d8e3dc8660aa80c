//! Phase 10: what orgctl leaves alone (OUs, accounts and policies it does not manage) is noted.

use std::collections::HashSet;

use orgctl_model::is_managed;

use super::{Output, Planner};

impl Planner<'_> {
    /// Notes on unmanaged resources, given the live OUs the plan deletes.
    pub(super) fn unmanaged_notes(&self, deleted_ous: &HashSet<String>, out: &mut Output) {
        for ou in &self.live.ous {
            if !self.matched.claimed_ous.contains(&ou.id)
                && !deleted_ous.contains(&ou.id)
                && !is_managed(&ou.tags)
            {
                out.note(
                    format!("ou {}", self.index.path(&ou.id)),
                    format!(
                        "OU {} is not managed by orgctl (no managed-by tag, not in the YAML) — \
                         left in place",
                        ou.id
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
                out.note(
                    format!("account {}", account.name),
                    format!(
                        "account {} ({}) in {} is not in the YAML — not managed, left in \
                         place{follows}",
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
                out.note(
                    format!("policy {}/{}", p.policy_type.short(), p.name),
                    format!(
                        "policy {} is not managed by orgctl — left in place with its {} \
                         attachment(s)",
                        p.id,
                        p.targets.len()
                    ),
                );
            }
        }
    }
}
