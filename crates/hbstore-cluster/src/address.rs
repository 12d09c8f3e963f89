//! Where a cluster is: the address a store is opened with, parsed and
//! checked, and shown without its password.

use crate::client::Credentials;
use crate::error::ClusterError;
use crate::layout::check_namespace;

/// A cluster address:
/// `redis://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...][/NAMESPACE]` (the
/// scheme may be left out). Any node of the cluster will do; more than one
/// lets the client start while one is down. With a password, every
/// connection authenticates (`AUTH`, with the user for Redis ACLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `host:port` of each node given.
    pub seeds: Vec<String>,
    /// What every connection authenticates with.
    pub credentials: Option<Credentials>,
    /// The namespace, if the address names one.
    pub namespace: Option<String>,
}

/// `url` with its password, if any, replaced by `***`: what messages and
/// logs show of an address.
pub fn redacted(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    match rest.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let user = userinfo.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}{user}:***@{hosts}")
        }
        None => url.to_owned(),
    }
}

impl Address {
    /// Parses an address; `BadAddress` says what is wrong.
    pub fn parse(url: &str) -> std::result::Result<Address, ClusterError> {
        let bad = |reason: &str| ClusterError::BadAddress {
            url: redacted(url),
            reason: reason.to_owned(),
        };
        let rest = match url.split_once("://") {
            Some(("redis", rest)) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "the scheme is {scheme:?}; hbstore speaks redis:// (no TLS yet)"
                )))
            }
            None => url,
        };
        let (credentials, rest) = match rest.rsplit_once('@') {
            None => (None, rest),
            Some((userinfo, rest)) => {
                let (user, password) = userinfo.split_once(':').ok_or_else(|| {
                    bad("a user needs a password (redis://USER:PASSWORD@HOST:PORT, or :PASSWORD@ alone)")
                })?;
                if password.is_empty() {
                    return Err(bad("the password is empty"));
                }
                let user = (!user.is_empty()).then(|| user.to_owned());
                let password = password.to_owned();
                (Some(Credentials { user, password }), rest)
            }
        };
        let (nodes, namespace) = match rest.split_once('/') {
            Some((nodes, ns)) if !ns.is_empty() => (nodes, Some(ns.to_owned())),
            Some((nodes, _)) => (nodes, None),
            None => (rest, None),
        };
        if let Some(ns) = &namespace {
            check_namespace(ns).map_err(|r| bad(&r))?;
        }
        let mut seeds = Vec::new();
        for node in nodes.split(',') {
            let (host, port) = node
                .rsplit_once(':')
                .ok_or_else(|| bad(&format!("{node:?} has no port (HOST:PORT)")))?;
            if host.is_empty() {
                return Err(bad(&format!("{node:?}: a host is needed")));
            }
            port.parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| bad(&format!("{port:?} is not a port")))?;
            seeds.push(node.to_owned());
        }
        Ok(Address {
            seeds,
            credentials,
            namespace,
        })
    }
}
