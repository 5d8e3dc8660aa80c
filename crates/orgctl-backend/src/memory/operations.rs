//! What each API operation does to the organization: the checks AWS makes against the current
//! state (after the input rules), the change, and the answer; and [`OrgApi`] for [`MemoryOrg`],
//! each method one logged call.

use std::collections::BTreeSet;

use orgctl_model::{AccountStatus, PolicyType, Tags};

use super::errors::{
    account_not_found, constraint, err, immutable_policy, ou_not_found, parent_not_found,
    policy_not_found, target_not_found, type_not_enabled,
};
use super::rules::{
    check_account_name, check_content, check_description, check_email, check_ou_name,
    check_policy_name, check_tag_count, check_tag_key, check_tags,
};
use super::state::{Account, CreateRequest, Ou, Policy, State};
use super::{MAX_OU_DEPTH, MemoryOrg};
use crate::api::{
    AccountInfo, ApiResult, CreateAccountState, CreateAccountStatus, OrgApi, OrgInfo, OuInfo,
    PolicySummary, RootInfo, codes, operations as ops,
};

impl State {
    // -- reads ---------------------------------------------------------------------------------

    fn list_ous_for_parent(&self, op: &'static str, parent: &str) -> ApiResult<Vec<OuInfo>> {
        if !self.is_container(parent) {
            return Err(parent_not_found(op));
        }
        Ok(self
            .child_ous
            .get(parent)
            .into_iter()
            .flatten()
            .filter_map(|id| {
                self.ous.get(id).map(|o| OuInfo {
                    id: id.clone(),
                    name: o.name.clone(),
                })
            })
            .collect())
    }

    fn list_accounts_for_parent(
        &self,
        op: &'static str,
        parent: &str,
    ) -> ApiResult<Vec<AccountInfo>> {
        if !self.is_container(parent) {
            return Err(parent_not_found(op));
        }
        Ok(self
            .child_accounts
            .get(parent)
            .into_iter()
            .flatten()
            .filter_map(|id| self.accounts.get(id).map(|a| Self::account_info(id, a)))
            .collect())
    }

    fn list_accounts(&self) -> Vec<AccountInfo> {
        let mut all: Vec<AccountInfo> = self
            .accounts
            .iter()
            .map(|(id, a)| Self::account_info(id, a))
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    fn list_parent(&self, op: &'static str, child: &str) -> ApiResult<String> {
        if let Some(ou) = self.ous.get(child) {
            return Ok(ou.parent_id.clone());
        }
        if let Some(a) = self.accounts.get(child) {
            return Ok(a.parent_id.clone());
        }
        Err(err(
            op,
            codes::CHILD_NOT_FOUND,
            "We can't find an organizational unit (OU) or AWS account with the ChildId that you \
             specified.",
        ))
    }

    fn list_tags(&mut self, op: &'static str, resource: &str) -> ApiResult<Tags> {
        self.tags_mut(op, resource).map(|t| t.clone())
    }

    fn list_policies(&self, policy_type: PolicyType) -> Vec<PolicySummary> {
        let mut all: Vec<PolicySummary> = self
            .policies
            .iter()
            .filter(|(_, p)| p.policy_type == policy_type)
            .map(|(id, p)| Self::policy_summary(id, p))
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    fn describe_create_account_status(
        &mut self,
        op: &'static str,
        request_id: &str,
    ) -> ApiResult<CreateAccountStatus> {
        let Some(r) = self.create_requests.get_mut(request_id) else {
            return Err(err(
                op,
                codes::CREATE_ACCOUNT_STATUS_NOT_FOUND,
                "We can't find a create account request with the CreateAccountRequestId that \
                 you specified.",
            ));
        };
        if r.state == CreateAccountState::InProgress {
            if r.polls_left > 0 {
                r.polls_left -= 1;
            } else {
                self.finish_request(request_id);
            }
        }
        self.create_requests
            .get(request_id)
            .map(|r| Self::request_status(request_id, r))
            .ok_or_else(|| err(op, codes::CREATE_ACCOUNT_STATUS_NOT_FOUND, "gone"))
    }

    // -- writes --------------------------------------------------------------------------------

    fn enable_policy_type(
        &mut self,
        op: &'static str,
        root: &str,
        policy_type: PolicyType,
    ) -> ApiResult<()> {
        if root != self.root_id {
            return Err(err(
                op,
                codes::ROOT_NOT_FOUND,
                "We can't find a root with the RootId that you specified.",
            ));
        }
        if self.enabled_types.contains(&policy_type) {
            return Err(err(
                op,
                codes::POLICY_TYPE_ALREADY_ENABLED,
                "The specified policy type is already enabled in the specified root.",
            ));
        }
        self.enabled_types.insert(policy_type);
        if policy_type == PolicyType::ServiceControlPolicy
            && let Some(full_access) = self.full_aws_access_id.clone()
        {
            // AWS attaches FullAWSAccess to the root and to every OU and account.
            let mut targets = vec![self.root_id.clone()];
            targets.extend(self.ous.keys().cloned());
            targets.extend(self.accounts.keys().cloned());
            for t in targets {
                self.record_attachment(&full_access, &t);
            }
        }
        Ok(())
    }

    fn create_ou(
        &mut self,
        op: &'static str,
        parent: &str,
        name: &str,
        tags: &Tags,
    ) -> ApiResult<OuInfo> {
        check_ou_name(op, name)?;
        check_tags(op, tags)?;
        if !self.is_container(parent) {
            return Err(parent_not_found(op));
        }
        if self.depth(parent) + 1 > MAX_OU_DEPTH {
            return Err(constraint(
                op,
                "OU_DEPTH_LIMIT_EXCEEDED",
                &format!(
                    "You attempted to create an OU tree that is too many levels deep (at most \
                     {MAX_OU_DEPTH} levels below the root)."
                ),
            ));
        }
        if self
            .ou_names
            .contains_key(&(parent.to_owned(), name.to_owned()))
        {
            return Err(err(
                op,
                codes::DUPLICATE_OU,
                "An OU with the same name already exists.",
            ));
        }
        let id = self.new_ou_id();
        self.insert_ou(
            id.clone(),
            Ou {
                name: name.to_owned(),
                parent_id: parent.to_owned(),
                tags: tags.clone(),
            },
        );
        self.attach_full_access(&id);
        Ok(OuInfo {
            id,
            name: name.to_owned(),
        })
    }

    fn rename_ou(&mut self, op: &'static str, id: &str, name: &str) -> ApiResult<()> {
        check_ou_name(op, name)?;
        let Some(ou) = self.ous.get(id) else {
            return Err(ou_not_found(op));
        };
        let parent = ou.parent_id.clone();
        let old = ou.name.clone();
        match self.ou_names.get(&(parent.clone(), name.to_owned())) {
            Some(other) if other != id => {
                return Err(err(
                    op,
                    codes::DUPLICATE_OU,
                    "An OU with the same name already exists.",
                ));
            }
            _ => {}
        }
        self.ou_names.remove(&(parent.clone(), old));
        self.ou_names
            .insert((parent, name.to_owned()), id.to_owned());
        if let Some(ou) = self.ous.get_mut(id) {
            ou.name = name.to_owned();
        }
        Ok(())
    }

    fn delete_ou(&mut self, op: &'static str, id: &str) -> ApiResult<()> {
        let Some(ou) = self.ous.get(id) else {
            return Err(ou_not_found(op));
        };
        let has_children = self.child_ous.get(id).is_some_and(|c| !c.is_empty())
            || self.child_accounts.get(id).is_some_and(|c| !c.is_empty());
        if has_children {
            return Err(err(
                op,
                codes::OU_NOT_EMPTY,
                "The specified OU is not empty. Move all accounts to another root or to other \
                 OUs, remove all child OUs, and try the operation again.",
            ));
        }
        let key = (ou.parent_id.clone(), ou.name.clone());
        let parent = ou.parent_id.clone();
        self.ou_names.remove(&key);
        if let Some(siblings) = self.child_ous.get_mut(&parent) {
            siblings.remove(id);
        }
        self.child_ous.remove(id);
        self.child_accounts.remove(id);
        for p in self.policies_on_target.remove(id).unwrap_or_default() {
            if let Some(p) = self.policies.get_mut(&p) {
                p.targets.remove(id);
            }
        }
        self.ous.remove(id);
        Ok(())
    }

    fn create_account(
        &mut self,
        op: &'static str,
        name: &str,
        email: &str,
        tags: &Tags,
    ) -> ApiResult<CreateAccountStatus> {
        check_account_name(op, name)?;
        check_email(op, email)?;
        check_tags(op, tags)?;
        let id = self.new_request_id();
        self.create_requests.insert(
            id.clone(),
            CreateRequest {
                name: name.to_owned(),
                email: email.to_owned(),
                tags: tags.clone(),
                state: CreateAccountState::InProgress,
                account_id: None,
                failure_reason: None,
                polls_left: self.create_account_polls,
            },
        );
        if self.create_account_polls == 0 {
            self.finish_request(&id);
        }
        self.create_requests
            .get(&id)
            .map(|r| Self::request_status(&id, r))
            .ok_or_else(|| err(op, codes::SERVICE, "request lost"))
    }

    /// Completes an IN_PROGRESS request: the account appears in the root, or the request fails.
    fn finish_request(&mut self, request_id: &str) {
        let Some(r) = self.create_requests.get(request_id) else {
            return;
        };
        let email = r.email.to_lowercase();
        if self.emails.contains_key(&email) || self.foreign_emails.contains(&email) {
            if let Some(r) = self.create_requests.get_mut(request_id) {
                r.state = CreateAccountState::Failed;
                r.failure_reason = Some("EMAIL_ALREADY_EXISTS".to_owned());
            }
            return;
        }
        let account = Account {
            name: r.name.clone(),
            email: r.email.clone(),
            parent_id: self.root_id.clone(),
            status: AccountStatus::Active,
            tags: r.tags.clone(),
        };
        let id = self.new_account_id();
        self.insert_account(id.clone(), account);
        self.attach_full_access(&id);
        if let Some(r) = self.create_requests.get_mut(request_id) {
            r.state = CreateAccountState::Succeeded;
            r.account_id = Some(id);
        }
    }

    fn move_account(
        &mut self,
        op: &'static str,
        account_id: &str,
        source: &str,
        destination: &str,
    ) -> ApiResult<()> {
        let Some(a) = self.accounts.get(account_id) else {
            return Err(account_not_found(op));
        };
        if !self.is_container(source) || a.parent_id != source {
            return Err(err(
                op,
                codes::SOURCE_PARENT_NOT_FOUND,
                "We can't find a source root or OU with the ParentId that you specified.",
            ));
        }
        if !self.is_container(destination) {
            return Err(err(
                op,
                codes::DESTINATION_PARENT_NOT_FOUND,
                "We can't find the destination container (a root or OU) with the ParentId \
                 that you specified.",
            ));
        }
        if source == destination {
            return Err(err(
                op,
                codes::DUPLICATE_ACCOUNT,
                "That account is already present in the specified destination.",
            ));
        }
        if let Some(set) = self.child_accounts.get_mut(source) {
            set.remove(account_id);
        }
        self.child_accounts
            .entry(destination.to_owned())
            .or_default()
            .insert(account_id.to_owned());
        if let Some(a) = self.accounts.get_mut(account_id) {
            a.parent_id = destination.to_owned();
        }
        Ok(())
    }

    fn close_account(&mut self, op: &'static str, account_id: &str) -> ApiResult<()> {
        let Some(a) = self.accounts.get_mut(account_id) else {
            return Err(account_not_found(op));
        };
        if account_id == self.management_account_id {
            return Err(constraint(
                op,
                "CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
                "You attempted to close the management account. To close the management \
                 account for the organization, you must first either remove or close all member \
                 accounts in the organization.",
            ));
        }
        if a.status.is_closed() {
            return Err(err(
                op,
                codes::ACCOUNT_ALREADY_CLOSED,
                "You attempted to close an account that is already closed.",
            ));
        }
        a.status = AccountStatus::Suspended;
        Ok(())
    }

    fn tag_resource(&mut self, op: &'static str, resource: &str, tags: &Tags) -> ApiResult<()> {
        check_tags(op, tags)?;
        let current = self.tags_mut(op, resource)?;
        let total = current.len() + tags.keys().filter(|k| !current.contains_key(*k)).count();
        check_tag_count(op, total)?;
        for (k, v) in tags {
            current.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    fn untag_resource(
        &mut self,
        op: &'static str,
        resource: &str,
        keys: &[String],
    ) -> ApiResult<()> {
        for k in keys {
            check_tag_key(op, k)?;
        }
        let current = self.tags_mut(op, resource)?;
        for k in keys {
            current.remove(k);
        }
        Ok(())
    }

    fn create_policy(
        &mut self,
        op: &'static str,
        name: &str,
        policy_type: PolicyType,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> ApiResult<PolicySummary> {
        check_policy_name(op, name)?;
        check_description(op, description)?;
        check_tags(op, tags)?;
        if !self.enabled_types.contains(&policy_type) {
            return Err(type_not_enabled(op));
        }
        check_content(op, policy_type, content)?;
        if self.policy_names.contains_key(name) {
            return Err(err(
                op,
                codes::DUPLICATE_POLICY,
                "A policy with the same name already exists.",
            ));
        }
        let id = self.new_policy_id();
        let policy = Policy {
            name: name.to_owned(),
            policy_type,
            description: description.to_owned(),
            content: content.to_owned(),
            aws_managed: false,
            tags: tags.clone(),
            targets: BTreeSet::new(),
        };
        let summary = Self::policy_summary(&id, &policy);
        self.insert_policy(id, policy);
        Ok(summary)
    }

    fn update_policy(
        &mut self,
        op: &'static str,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if p.aws_managed {
            return Err(immutable_policy(op));
        }
        if let Some(d) = description {
            check_description(op, d)?;
        }
        if let Some(c) = content {
            check_content(op, p.policy_type, c)?;
        }
        if let Some(p) = self.policies.get_mut(policy_id) {
            if let Some(d) = description {
                p.description = d.to_owned();
            }
            if let Some(c) = content {
                p.content = c.to_owned();
            }
        }
        Ok(())
    }

    fn attach_policy(&mut self, op: &'static str, policy_id: &str, target: &str) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if !self.is_target(target) {
            return Err(target_not_found(op));
        }
        if !self.enabled_types.contains(&p.policy_type) {
            return Err(type_not_enabled(op));
        }
        if p.targets.contains(target) {
            return Err(err(
                op,
                codes::DUPLICATE_POLICY_ATTACHMENT,
                "The selected policy is already attached to the specified target.",
            ));
        }
        if self.attached_count(target, p.policy_type) >= self.policy_limit_per_target {
            return Err(constraint(
                op,
                "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                &format!(
                    "You attempted to exceed the number of policies of a certain type that can \
                     be attached to an entity at one time ({} {} policies).",
                    self.policy_limit_per_target, p.policy_type
                ),
            ));
        }
        self.record_attachment(policy_id, target);
        Ok(())
    }

    fn detach_policy(&mut self, op: &'static str, policy_id: &str, target: &str) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if !self.is_target(target) {
            return Err(target_not_found(op));
        }
        if !p.targets.contains(target) {
            return Err(err(
                op,
                codes::POLICY_NOT_ATTACHED,
                "The policy isn't attached to the specified target in the specified root.",
            ));
        }
        if p.policy_type == PolicyType::ServiceControlPolicy
            && self.scp_enabled()
            && self.attached_count(target, PolicyType::ServiceControlPolicy) <= 1
        {
            return Err(constraint(
                op,
                "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                "You attempted to detach a policy from an entity that would cause the entity to \
                 have fewer than the minimum number of policies of a certain type required \
                 (every root, OU and account must have at least one SCP attached).",
            ));
        }
        self.remove_attachment(policy_id, target);
        Ok(())
    }

    fn delete_policy(&mut self, op: &'static str, policy_id: &str) -> ApiResult<()> {
        let Some(p) = self.policies.get(policy_id) else {
            return Err(policy_not_found(op));
        };
        if p.aws_managed {
            return Err(immutable_policy(op));
        }
        if !p.targets.is_empty() {
            return Err(err(
                op,
                codes::POLICY_IN_USE,
                "The policy is attached to one or more entities. You must detach it from all \
                 roots, OUs, and accounts before performing this operation.",
            ));
        }
        if let Some(p) = self.policies.remove(policy_id) {
            self.policy_names.remove(&p.name);
        }
        Ok(())
    }
}

impl OrgApi for MemoryOrg {
    async fn describe_organization(&self) -> ApiResult<OrgInfo> {
        self.call(ops::DESCRIBE_ORGANIZATION, |s| {
            Ok(OrgInfo {
                id: s.org_id.clone(),
                management_account_id: s.management_account_id.clone(),
            })
        })
    }

    async fn list_roots(&self) -> ApiResult<Vec<RootInfo>> {
        self.call(ops::LIST_ROOTS, |s| {
            Ok(vec![RootInfo {
                id: s.root_id.clone(),
                enabled_policy_types: s.enabled_types.iter().copied().collect(),
            }])
        })
    }

    async fn list_ous_for_parent(&self, parent_id: &str) -> ApiResult<Vec<OuInfo>> {
        self.call(ops::LIST_OUS_FOR_PARENT, |s| {
            s.list_ous_for_parent(ops::LIST_OUS_FOR_PARENT, parent_id)
        })
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> ApiResult<Vec<AccountInfo>> {
        self.call(ops::LIST_ACCOUNTS_FOR_PARENT, |s| {
            s.list_accounts_for_parent(ops::LIST_ACCOUNTS_FOR_PARENT, parent_id)
        })
    }

    async fn list_accounts(&self) -> ApiResult<Vec<AccountInfo>> {
        self.call(ops::LIST_ACCOUNTS, |s| Ok(s.list_accounts()))
    }

    async fn list_parent(&self, child_id: &str) -> ApiResult<String> {
        self.call(ops::LIST_PARENTS, |s| {
            s.list_parent(ops::LIST_PARENTS, child_id)
        })
    }

    async fn describe_ou(&self, ou_id: &str) -> ApiResult<OuInfo> {
        self.call(ops::DESCRIBE_OU, |s| {
            s.ous
                .get(ou_id)
                .map(|o| OuInfo {
                    id: ou_id.to_owned(),
                    name: o.name.clone(),
                })
                .ok_or_else(|| ou_not_found(ops::DESCRIBE_OU))
        })
    }

    async fn describe_account(&self, account_id: &str) -> ApiResult<AccountInfo> {
        self.call(ops::DESCRIBE_ACCOUNT, |s| {
            s.accounts
                .get(account_id)
                .map(|a| State::account_info(account_id, a))
                .ok_or_else(|| account_not_found(ops::DESCRIBE_ACCOUNT))
        })
    }

    async fn list_tags(&self, resource_id: &str) -> ApiResult<Tags> {
        self.call(ops::LIST_TAGS, |s| s.list_tags(ops::LIST_TAGS, resource_id))
    }

    async fn list_policies(&self, policy_type: PolicyType) -> ApiResult<Vec<PolicySummary>> {
        self.call(ops::LIST_POLICIES, |s| Ok(s.list_policies(policy_type)))
    }

    async fn describe_policy(&self, policy_id: &str) -> ApiResult<String> {
        self.call(ops::DESCRIBE_POLICY, |s| {
            s.policies
                .get(policy_id)
                .map(|p| p.content.clone())
                .ok_or_else(|| policy_not_found(ops::DESCRIBE_POLICY))
        })
    }

    async fn list_targets_for_policy(&self, policy_id: &str) -> ApiResult<Vec<String>> {
        self.call(ops::LIST_TARGETS_FOR_POLICY, |s| {
            s.policies
                .get(policy_id)
                .map(|p| p.targets.iter().cloned().collect())
                .ok_or_else(|| policy_not_found(ops::LIST_TARGETS_FOR_POLICY))
        })
    }

    async fn list_policies_for_target(
        &self,
        target_id: &str,
        policy_type: PolicyType,
    ) -> ApiResult<Vec<String>> {
        self.call(ops::LIST_POLICIES_FOR_TARGET, |s| {
            if !s.is_target(target_id) {
                return Err(target_not_found(ops::LIST_POLICIES_FOR_TARGET));
            }
            Ok(s.policies
                .iter()
                .filter(|(_, p)| p.policy_type == policy_type && p.targets.contains(target_id))
                .map(|(id, _)| id.clone())
                .collect())
        })
    }

    async fn list_create_account_in_progress(&self) -> ApiResult<Vec<CreateAccountStatus>> {
        self.call(ops::LIST_CREATE_ACCOUNT_STATUS, |s| {
            Ok(s.create_requests
                .iter()
                .filter(|(_, r)| r.state == CreateAccountState::InProgress)
                .map(|(id, r)| State::request_status(id, r))
                .collect())
        })
    }

    async fn describe_create_account_status(
        &self,
        request_id: &str,
    ) -> ApiResult<CreateAccountStatus> {
        self.call(ops::DESCRIBE_CREATE_ACCOUNT_STATUS, |s| {
            s.describe_create_account_status(ops::DESCRIBE_CREATE_ACCOUNT_STATUS, request_id)
        })
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> ApiResult<()> {
        self.call(ops::ENABLE_POLICY_TYPE, |s| {
            s.enable_policy_type(ops::ENABLE_POLICY_TYPE, root_id, policy_type)
        })
    }

    async fn create_ou(&self, parent_id: &str, name: &str, tags: &Tags) -> ApiResult<OuInfo> {
        self.call(ops::CREATE_OU, |s| {
            s.create_ou(ops::CREATE_OU, parent_id, name, tags)
        })
    }

    async fn rename_ou(&self, ou_id: &str, name: &str) -> ApiResult<()> {
        self.call(ops::UPDATE_OU, |s| s.rename_ou(ops::UPDATE_OU, ou_id, name))
    }

    async fn delete_ou(&self, ou_id: &str) -> ApiResult<()> {
        self.call(ops::DELETE_OU, |s| s.delete_ou(ops::DELETE_OU, ou_id))
    }

    async fn create_account(
        &self,
        name: &str,
        email: &str,
        tags: &Tags,
    ) -> ApiResult<CreateAccountStatus> {
        self.call(ops::CREATE_ACCOUNT, |s| {
            s.create_account(ops::CREATE_ACCOUNT, name, email, tags)
        })
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> ApiResult<()> {
        self.call(ops::MOVE_ACCOUNT, |s| {
            s.move_account(
                ops::MOVE_ACCOUNT,
                account_id,
                source_parent_id,
                destination_parent_id,
            )
        })
    }

    async fn close_account(&self, account_id: &str) -> ApiResult<()> {
        self.call(ops::CLOSE_ACCOUNT, |s| {
            s.close_account(ops::CLOSE_ACCOUNT, account_id)
        })
    }

    async fn tag_resource(&self, resource_id: &str, tags: &Tags) -> ApiResult<()> {
        self.call(ops::TAG_RESOURCE, |s| {
            s.tag_resource(ops::TAG_RESOURCE, resource_id, tags)
        })
    }

    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> ApiResult<()> {
        self.call(ops::UNTAG_RESOURCE, |s| {
            s.untag_resource(ops::UNTAG_RESOURCE, resource_id, keys)
        })
    }

    async fn create_policy(
        &self,
        name: &str,
        policy_type: PolicyType,
        description: &str,
        content: &str,
        tags: &Tags,
    ) -> ApiResult<PolicySummary> {
        self.call(ops::CREATE_POLICY, |s| {
            s.create_policy(
                ops::CREATE_POLICY,
                name,
                policy_type,
                description,
                content,
                tags,
            )
        })
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> ApiResult<()> {
        self.call(ops::UPDATE_POLICY, |s| {
            s.update_policy(ops::UPDATE_POLICY, policy_id, description, content)
        })
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> ApiResult<()> {
        self.call(ops::ATTACH_POLICY, |s| {
            s.attach_policy(ops::ATTACH_POLICY, policy_id, target_id)
        })
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> ApiResult<()> {
        self.call(ops::DETACH_POLICY, |s| {
            s.detach_policy(ops::DETACH_POLICY, policy_id, target_id)
        })
    }

    async fn delete_policy(&self, policy_id: &str) -> ApiResult<()> {
        self.call(ops::DELETE_POLICY, |s| {
            s.delete_policy(ops::DELETE_POLICY, policy_id)
        })
    }
}
