//! The least the caller of a database Job needs in its namespace.

/// The minimal namespaced Role (YAML) for running [`crate::DatabaseBootstrapJob`]
/// and [`crate::PgCopyJob`] in `namespace`: create and delete the Secret and
/// ConfigMap; create, list, watch and delete Jobs; list pods and read their logs.
/// Bind it to the caller with a RoleBinding.
///
/// ```
/// let yaml = deploy_k8s::minimal_role_yaml("vectice", "deploy-database-jobs");
/// assert!(yaml.contains("resources: [\"pods/log\"]"));
/// ```
pub fn minimal_role_yaml(namespace: &str, name: &str) -> String {
    format!(
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {name}
  namespace: {namespace}
rules:
- apiGroups: [""]
  resources: ["secrets", "configmaps"]
  verbs: ["create", "delete"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create", "list", "watch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
"#,
        name = yaml_string(name),
        namespace = yaml_string(namespace)
    )
}

/// A YAML double-quoted scalar.
fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}
