//! Tests of Kubernetes versions.

use crate::validate::test_support::*;

use super::*;

named!(KubernetesVersion => K8S_VERSION_RULE);

// --------------------------------------------------------- KubernetesVersion

#[test]
fn k8s_version_api() {
    common_api::<KubernetesVersion>("1.31", "1.31.2");
}

#[test]
fn k8s_version_edges() {
    for good in ["1.0", "1.9", "1.10", "1.31", "1.99"] {
        ok::<KubernetesVersion>(good);
    }
    bad::<KubernetesVersion>("1.100", "has minor version 100, outside 0-99");
    bad::<KubernetesVersion>("1.99999999999999999999", "has minor version 99999999999999999999, outside 0-99");
    bad::<KubernetesVersion>("0.31", "has major version 0, not 1");
    bad::<KubernetesVersion>("2.0", "has major version 2, not 1");
    bad::<KubernetesVersion>("1.09", "has a leading zero in `09`");
    bad::<KubernetesVersion>("1.00", "has a leading zero in `00`");
    bad::<KubernetesVersion>("01.31", "has a leading zero in `01`");
    bad::<KubernetesVersion>("1.31.2", "has a patch part `.2`");
    for shape in ["", "1", "1.", ".31", "v1.31", "1.31-eks", "1.3a", "1..31", " 1.31", "1.31 ", "1.+3", "1.31.2.1"] {
        bad::<KubernetesVersion>(shape, "is not MAJOR.MINOR of two decimal numbers");
    }
}
