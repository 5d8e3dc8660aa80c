//! Macros that implement [`OrgApi`](crate::api::OrgApi) (and [`IamApi`](crate::iam::IamApi)) for a decorator by sending every
//! method through the decorator's `around` hook, so that decorators (`Faulty`,
//! [`crate::retry::Retrying`]) cannot forget a method and stay in step with the trait.

/// Implements `OrgApi` for `$wrapper<A>` (a struct with a field `inner: A`) by calling
/// `self.around(operation_name, || self.inner.method(args…))` for every method. `around` must be
/// `async fn around<T, F, Fut>(&self, op: &'static str, call: F) -> ApiResult<T>` where
/// `F: FnMut() -> Fut` (it may call `call` more than once, or not at all).
macro_rules! delegate_org_api {
    ($wrapper:ident) => {
        impl<A: $crate::api::OrgApi> $crate::api::OrgApi for $wrapper<A> {
            async fn describe_organization(&self) -> $crate::api::ApiResult<$crate::api::OrgInfo> {
                self.around($crate::api::operations::DESCRIBE_ORGANIZATION, || {
                    self.inner.describe_organization()
                })
                .await
            }
            async fn list_roots(&self) -> $crate::api::ApiResult<Vec<$crate::api::RootInfo>> {
                self.around($crate::api::operations::LIST_ROOTS, || {
                    self.inner.list_roots()
                })
                .await
            }
            async fn list_ous_for_parent(
                &self,
                parent_id: &str,
            ) -> $crate::api::ApiResult<Vec<$crate::api::OuInfo>> {
                self.around($crate::api::operations::LIST_OUS_FOR_PARENT, || {
                    self.inner.list_ous_for_parent(parent_id)
                })
                .await
            }
            async fn list_accounts_for_parent(
                &self,
                parent_id: &str,
            ) -> $crate::api::ApiResult<Vec<$crate::api::AccountInfo>> {
                self.around($crate::api::operations::LIST_ACCOUNTS_FOR_PARENT, || {
                    self.inner.list_accounts_for_parent(parent_id)
                })
                .await
            }
            async fn list_accounts(&self) -> $crate::api::ApiResult<Vec<$crate::api::AccountInfo>> {
                self.around($crate::api::operations::LIST_ACCOUNTS, || {
                    self.inner.list_accounts()
                })
                .await
            }
            async fn list_parent(&self, child_id: &str) -> $crate::api::ApiResult<String> {
                self.around($crate::api::operations::LIST_PARENTS, || {
                    self.inner.list_parent(child_id)
                })
                .await
            }
            async fn describe_ou(
                &self,
                ou_id: &str,
            ) -> $crate::api::ApiResult<$crate::api::OuInfo> {
                self.around($crate::api::operations::DESCRIBE_OU, || {
                    self.inner.describe_ou(ou_id)
                })
                .await
            }
            async fn describe_account(
                &self,
                account_id: &str,
            ) -> $crate::api::ApiResult<$crate::api::AccountInfo> {
                self.around($crate::api::operations::DESCRIBE_ACCOUNT, || {
                    self.inner.describe_account(account_id)
                })
                .await
            }
            async fn list_tags(
                &self,
                resource_id: &str,
            ) -> $crate::api::ApiResult<::orgctl_model::Tags> {
                self.around($crate::api::operations::LIST_TAGS, || {
                    self.inner.list_tags(resource_id)
                })
                .await
            }
            async fn list_policies(
                &self,
                policy_type: ::orgctl_model::PolicyType,
            ) -> $crate::api::ApiResult<Vec<$crate::api::PolicySummary>> {
                self.around($crate::api::operations::LIST_POLICIES, || {
                    self.inner.list_policies(policy_type)
                })
                .await
            }
            async fn describe_policy(&self, policy_id: &str) -> $crate::api::ApiResult<String> {
                self.around($crate::api::operations::DESCRIBE_POLICY, || {
                    self.inner.describe_policy(policy_id)
                })
                .await
            }
            async fn list_targets_for_policy(
                &self,
                policy_id: &str,
            ) -> $crate::api::ApiResult<Vec<String>> {
                self.around($crate::api::operations::LIST_TARGETS_FOR_POLICY, || {
                    self.inner.list_targets_for_policy(policy_id)
                })
                .await
            }
            async fn list_policies_for_target(
                &self,
                target_id: &str,
                policy_type: ::orgctl_model::PolicyType,
            ) -> $crate::api::ApiResult<Vec<String>> {
                self.around($crate::api::operations::LIST_POLICIES_FOR_TARGET, || {
                    self.inner.list_policies_for_target(target_id, policy_type)
                })
                .await
            }
            async fn list_create_account_in_progress(
                &self,
            ) -> $crate::api::ApiResult<Vec<$crate::api::CreateAccountStatus>> {
                self.around($crate::api::operations::LIST_CREATE_ACCOUNT_STATUS, || {
                    self.inner.list_create_account_in_progress()
                })
                .await
            }
            async fn describe_create_account_status(
                &self,
                request_id: &str,
            ) -> $crate::api::ApiResult<$crate::api::CreateAccountStatus> {
                self.around(
                    $crate::api::operations::DESCRIBE_CREATE_ACCOUNT_STATUS,
                    || self.inner.describe_create_account_status(request_id),
                )
                .await
            }
            async fn enable_policy_type(
                &self,
                root_id: &str,
                policy_type: ::orgctl_model::PolicyType,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::ENABLE_POLICY_TYPE, || {
                    self.inner.enable_policy_type(root_id, policy_type)
                })
                .await
            }
            async fn create_ou(
                &self,
                parent_id: &str,
                name: &str,
                tags: &::orgctl_model::Tags,
            ) -> $crate::api::ApiResult<$crate::api::OuInfo> {
                self.around($crate::api::operations::CREATE_OU, || {
                    self.inner.create_ou(parent_id, name, tags)
                })
                .await
            }
            async fn rename_ou(&self, ou_id: &str, name: &str) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::UPDATE_OU, || {
                    self.inner.rename_ou(ou_id, name)
                })
                .await
            }
            async fn delete_ou(&self, ou_id: &str) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::DELETE_OU, || {
                    self.inner.delete_ou(ou_id)
                })
                .await
            }
            async fn create_account(
                &self,
                name: &str,
                email: &str,
                tags: &::orgctl_model::Tags,
            ) -> $crate::api::ApiResult<$crate::api::CreateAccountStatus> {
                self.around($crate::api::operations::CREATE_ACCOUNT, || {
                    self.inner.create_account(name, email, tags)
                })
                .await
            }
            async fn move_account(
                &self,
                account_id: &str,
                source_parent_id: &str,
                destination_parent_id: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::MOVE_ACCOUNT, || {
                    self.inner
                        .move_account(account_id, source_parent_id, destination_parent_id)
                })
                .await
            }
            async fn close_account(&self, account_id: &str) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::CLOSE_ACCOUNT, || {
                    self.inner.close_account(account_id)
                })
                .await
            }
            async fn tag_resource(
                &self,
                resource_id: &str,
                tags: &::orgctl_model::Tags,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::TAG_RESOURCE, || {
                    self.inner.tag_resource(resource_id, tags)
                })
                .await
            }
            async fn untag_resource(
                &self,
                resource_id: &str,
                keys: &[String],
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::UNTAG_RESOURCE, || {
                    self.inner.untag_resource(resource_id, keys)
                })
                .await
            }
            async fn create_policy(
                &self,
                name: &str,
                policy_type: ::orgctl_model::PolicyType,
                description: &str,
                content: &str,
                tags: &::orgctl_model::Tags,
            ) -> $crate::api::ApiResult<$crate::api::PolicySummary> {
                self.around($crate::api::operations::CREATE_POLICY, || {
                    self.inner
                        .create_policy(name, policy_type, description, content, tags)
                })
                .await
            }
            async fn update_policy(
                &self,
                policy_id: &str,
                description: Option<&str>,
                content: Option<&str>,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::UPDATE_POLICY, || {
                    self.inner.update_policy(policy_id, description, content)
                })
                .await
            }
            async fn attach_policy(
                &self,
                policy_id: &str,
                target_id: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::ATTACH_POLICY, || {
                    self.inner.attach_policy(policy_id, target_id)
                })
                .await
            }
            async fn detach_policy(
                &self,
                policy_id: &str,
                target_id: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::DETACH_POLICY, || {
                    self.inner.detach_policy(policy_id, target_id)
                })
                .await
            }
            async fn delete_policy(&self, policy_id: &str) -> $crate::api::ApiResult<()> {
                self.around($crate::api::operations::DELETE_POLICY, || {
                    self.inner.delete_policy(policy_id)
                })
                .await
            }
        }
    };
}

pub(crate) use delegate_org_api;

/// Implements `IamApi` for `$wrapper<A>` the same way [`delegate_org_api`] implements `OrgApi`:
/// every method goes through `self.around(operation_name, || self.inner.method(args…))`.
macro_rules! delegate_iam_api {
    ($wrapper:ident) => {
        impl<A: $crate::iam::IamApi> $crate::iam::IamApi for $wrapper<A> {
            async fn connect(
                &self,
                account: &str,
            ) -> $crate::api::ApiResult<orgctl_model::IamRead> {
                self.around($crate::iam::operations::ASSUME_ROLE, || {
                    self.inner.connect(account)
                })
                .await
            }
            async fn list_roles(
                &self,
                account: &str,
                path_prefix: &str,
            ) -> $crate::api::ApiResult<Vec<$crate::iam::RoleSummary>> {
                self.around($crate::iam::operations::LIST_ROLES, || {
                    self.inner.list_roles(account, path_prefix)
                })
                .await
            }
            async fn get_role(
                &self,
                account: &str,
                name: &str,
            ) -> $crate::api::ApiResult<$crate::iam::Role> {
                self.around($crate::iam::operations::GET_ROLE, || {
                    self.inner.get_role(account, name)
                })
                .await
            }
            async fn create_role(
                &self,
                account: &str,
                role: &$crate::iam::NewRole,
            ) -> $crate::api::ApiResult<$crate::iam::Role> {
                self.around($crate::iam::operations::CREATE_ROLE, || {
                    self.inner.create_role(account, role)
                })
                .await
            }
            async fn update_trust_policy(
                &self,
                account: &str,
                name: &str,
                trust_policy: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::UPDATE_ASSUME_ROLE_POLICY, || {
                    self.inner.update_trust_policy(account, name, trust_policy)
                })
                .await
            }
            async fn update_role(
                &self,
                account: &str,
                name: &str,
                description: &str,
                max_session_secs: i32,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::UPDATE_ROLE, || {
                    self.inner
                        .update_role(account, name, description, max_session_secs)
                })
                .await
            }
            async fn tag_role(
                &self,
                account: &str,
                name: &str,
                tags: &::orgctl_model::Tags,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::TAG_ROLE, || {
                    self.inner.tag_role(account, name, tags)
                })
                .await
            }
            async fn untag_role(
                &self,
                account: &str,
                name: &str,
                keys: &[String],
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::UNTAG_ROLE, || {
                    self.inner.untag_role(account, name, keys)
                })
                .await
            }
            async fn list_attached_policies(
                &self,
                account: &str,
                name: &str,
            ) -> $crate::api::ApiResult<Vec<$crate::iam::AttachedPolicy>> {
                self.around($crate::iam::operations::LIST_ATTACHED_ROLE_POLICIES, || {
                    self.inner.list_attached_policies(account, name)
                })
                .await
            }
            async fn attach_policy(
                &self,
                account: &str,
                name: &str,
                policy_arn: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::ATTACH_ROLE_POLICY, || {
                    self.inner.attach_policy(account, name, policy_arn)
                })
                .await
            }
            async fn detach_policy(
                &self,
                account: &str,
                name: &str,
                policy_arn: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::DETACH_ROLE_POLICY, || {
                    self.inner.detach_policy(account, name, policy_arn)
                })
                .await
            }
            async fn list_inline_policies(
                &self,
                account: &str,
                name: &str,
            ) -> $crate::api::ApiResult<Vec<String>> {
                self.around($crate::iam::operations::LIST_ROLE_POLICIES, || {
                    self.inner.list_inline_policies(account, name)
                })
                .await
            }
            async fn get_inline_policy(
                &self,
                account: &str,
                name: &str,
                policy_name: &str,
            ) -> $crate::api::ApiResult<String> {
                self.around($crate::iam::operations::GET_ROLE_POLICY, || {
                    self.inner.get_inline_policy(account, name, policy_name)
                })
                .await
            }
            async fn put_inline_policy(
                &self,
                account: &str,
                name: &str,
                policy_name: &str,
                document: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::PUT_ROLE_POLICY, || {
                    self.inner
                        .put_inline_policy(account, name, policy_name, document)
                })
                .await
            }
            async fn delete_inline_policy(
                &self,
                account: &str,
                name: &str,
                policy_name: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::DELETE_ROLE_POLICY, || {
                    self.inner.delete_inline_policy(account, name, policy_name)
                })
                .await
            }
            async fn put_permissions_boundary(
                &self,
                account: &str,
                name: &str,
                policy_arn: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around(
                    $crate::iam::operations::PUT_ROLE_PERMISSIONS_BOUNDARY,
                    || {
                        self.inner
                            .put_permissions_boundary(account, name, policy_arn)
                    },
                )
                .await
            }
            async fn delete_permissions_boundary(
                &self,
                account: &str,
                name: &str,
            ) -> $crate::api::ApiResult<()> {
                self.around(
                    $crate::iam::operations::DELETE_ROLE_PERMISSIONS_BOUNDARY,
                    || self.inner.delete_permissions_boundary(account, name),
                )
                .await
            }
            async fn delete_role(&self, account: &str, name: &str) -> $crate::api::ApiResult<()> {
                self.around($crate::iam::operations::DELETE_ROLE, || {
                    self.inner.delete_role(account, name)
                })
                .await
            }
        }
    };
}

pub(crate) use delegate_iam_api;
