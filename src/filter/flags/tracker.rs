//! One list's worth of filter flags (hubble's `filterTracker`): the allowlist has one, the
//! denylist (flags after `--not`) another. Every flag updates a *left* and a *right* filter:
//! directional flags (`--from-pod`, `--verdict`, …) update both alike, either-direction flags
//! (`--pod`, `--ip`, `--port`, …) put their value on the source side of the left filter and the
//! destination side of the right one. So `--pod a --port 53` becomes (src a AND src port 53) OR
//! (dst a AND dst port 53). Namespaces are remembered and applied last, when the list is
//! materialized; left and right collapse into one filter when they end up equal.

use crate::api::flow::{FlowFilter, HttpHeader, NetworkInterface, flow_filter::Experimental};

use super::table::CONFLICTS;
use super::values;

#[derive(Debug, Default)]
pub(crate) struct Tracker {
    left: Option<FlowFilter>,
    right: Option<FlowFilter>,
    /// `-n`/`-A`: source namespace of the left filter, destination namespace of the right.
    ns: Vec<String>,
    /// `--from-namespace`/`--from-all-namespaces`: source namespace of both.
    src_ns: Vec<String>,
    /// `--to-namespace`/`--to-all-namespaces`: destination namespace of both.
    dst_ns: Vec<String>,
    /// The flags given so far, for hubble's conflict groups.
    changed: Vec<&'static str>,
}

impl Tracker {
    fn apply(&mut self, update: impl Fn(&mut FlowFilter)) {
        update(self.left.get_or_insert_with(FlowFilter::default));
        update(self.right.get_or_insert_with(FlowFilter::default));
    }

    /// An either-direction flag: `src` updates the left filter, `dst` the right one.
    fn either(&mut self, src: impl FnOnce(&mut FlowFilter), dst: impl FnOnce(&mut FlowFilter)) {
        src(self.left.get_or_insert_with(FlowFilter::default));
        dst(self.right.get_or_insert_with(FlowFilter::default));
    }

    /// Adds one flag's value. The error is hubble's message (without pflag's
    /// `invalid argument … for … flag:` wrapper, which the caller adds).
    pub(crate) fn set(&mut self, name: &'static str, val: &str) -> Result<(), String> {
        if !self.changed.contains(&name) {
            self.changed.push(name);
        }
        self.check_conflicts()?;
        let v = val.to_string();
        match name {
            "uuid" => self.apply(|f| f.uuid.push(v.clone())),
            "fqdn" => self.either(
                |f| f.source_fqdn.push(v.clone()),
                |f| f.destination_fqdn.push(v.clone()),
            ),
            "from-fqdn" => self.apply(|f| f.source_fqdn.push(v.clone())),
            "to-fqdn" => self.apply(|f| f.destination_fqdn.push(v.clone())),
            "pod" => self.either(
                |f| f.source_pod.push(v.clone()),
                |f| f.destination_pod.push(v.clone()),
            ),
            "from-pod" => self.apply(|f| f.source_pod.push(v.clone())),
            "to-pod" => self.apply(|f| f.destination_pod.push(v.clone())),
            "ip" => self.either(
                |f| f.source_ip.push(v.clone()),
                |f| f.destination_ip.push(v.clone()),
            ),
            "from-ip" => self.apply(|f| f.source_ip.push(v.clone())),
            "to-ip" => self.apply(|f| f.destination_ip.push(v.clone())),
            "snat-ip" => self.apply(|f| f.source_ip_xlated.push(v.clone())),
            // The value of -4/-6 is ignored: `-4=false` still selects IPv4, as in hubble.
            "ipv4" => self.apply(|f| f.ip_version.push(values::ip_version("4") as i32)),
            "ipv6" => self.apply(|f| f.ip_version.push(values::ip_version("6") as i32)),
            "ip-version" => {
                let version = values::ip_version(val) as i32;
                self.apply(|f| f.ip_version.push(version));
            }
            "label" => self.either(
                |f| f.source_label.push(v.clone()),
                |f| f.destination_label.push(v.clone()),
            ),
            "from-label" => self.apply(|f| f.source_label.push(v.clone())),
            "to-label" => self.apply(|f| f.destination_label.push(v.clone())),
            "namespace" => self.ns.push(v),
            "from-namespace" => self.src_ns.push(v),
            "to-namespace" => self.dst_ns.push(v),
            // The value is ignored here too: `--all-namespaces=false` still means all.
            "all-namespaces" => self.ns.push(String::new()),
            "from-all-namespaces" => self.src_ns.push(String::new()),
            "to-all-namespaces" => self.dst_ns.push(String::new()),
            "service" => self.either(
                |f| f.source_service.push(v.clone()),
                |f| f.destination_service.push(v.clone()),
            ),
            "from-service" => self.apply(|f| f.source_service.push(v.clone())),
            "to-service" => self.apply(|f| f.destination_service.push(v.clone())),
            "port" => self.either(
                |f| f.source_port.push(v.clone()),
                |f| f.destination_port.push(v.clone()),
            ),
            "from-port" => self.apply(|f| f.source_port.push(v.clone())),
            "to-port" => self.apply(|f| f.destination_port.push(v.clone())),
            "trace-id" => self.apply(|f| f.trace_id.push(v.clone())),
            "ip-trace-id" => {
                if val == "0" {
                    return Err("invalid --ip-trace-id value; must be greater than 0".into());
                }
                let id = values::parse_uint(val, 10, 64)
                    .map_err(|e| format!("invalid --ip-trace-id value: {e}"))?;
                self.apply(|f| f.ip_trace_id.push(id));
            }
            "verdict" => {
                let verdict = crate::api::flow::Verdict::from_str_name(val)
                    .ok_or_else(|| format!("invalid --verdict value: {val}"))?;
                self.apply(|f| f.verdict.push(verdict as i32));
            }
            "drop-reason-desc" => {
                if val.is_empty() {
                    return Err("empty --drop-reason-desc value".into());
                }
                let reason = crate::api::flow::DropReason::from_str_name(val)
                    .ok_or_else(|| format!("invalid --drop-reason-desc value: {val}"))?;
                self.apply(|f| f.drop_reason_desc.push(reason as i32));
            }
            "http-status" => self.apply(|f| f.http_status_code.push(v.clone())),
            "http-method" => self.apply(|f| f.http_method.push(v.clone())),
            "http-path" => self.apply(|f| f.http_path.push(v.clone())),
            "http-url" => self.apply(|f| f.http_url.push(v.clone())),
            "http-header" => {
                let (key, value) = val.split_once(':').ok_or_else(|| {
                    format!(
                        "invalid http-header value {}, expected name:value",
                        values::go_quote(val)
                    )
                })?;
                let header = HttpHeader {
                    key: key.into(),
                    value: value.into(),
                };
                self.apply(|f| f.http_header.push(header.clone()));
            }
            "type" => {
                let event = values::event_type(val)?;
                self.apply(|f| f.event_type.push(event));
            }
            "protocol" => self.apply(|f| f.protocol.push(v.clone())),
            "workload" => {
                let w = values::workload(val);
                self.either(
                    |f| f.source_workload.push(w.clone()),
                    |f| f.destination_workload.push(w.clone()),
                );
            }
            "from-workload" => {
                let w = values::workload(val);
                self.apply(|f| f.source_workload.push(w.clone()));
            }
            "to-workload" => {
                let w = values::workload(val);
                self.apply(|f| f.destination_workload.push(w.clone()));
            }
            "identity" => {
                let id = values::identity(val)?;
                self.either(
                    |f| f.source_identity.push(id),
                    |f| f.destination_identity.push(id),
                );
            }
            "from-identity" => {
                let id = values::identity(val)?;
                self.apply(|f| f.source_identity.push(id));
            }
            "to-identity" => {
                let id = values::identity(val)?;
                self.apply(|f| f.destination_identity.push(id));
            }
            "node-name" => self.apply(|f| f.node_name.push(v.clone())),
            "node-label" => self.apply(|f| f.node_labels.push(v.clone())),
            "cluster" => self.either(
                |f| f.source_cluster_name.push(v.clone()),
                |f| f.destination_cluster_name.push(v.clone()),
            ),
            "from-cluster" => self.apply(|f| f.source_cluster_name.push(v.clone())),
            "to-cluster" => self.apply(|f| f.destination_cluster_name.push(v.clone())),
            "tcp-flags" => {
                let flags = values::tcp_flags(val)?;
                self.apply(|f| f.tcp_flags.push(flags));
            }
            "traffic-direction" => {
                let td = values::traffic_direction(val)? as i32;
                self.apply(|f| f.traffic_direction.push(td));
            }
            "cel-expression" => self.apply(|f| {
                f.experimental
                    .get_or_insert_with(Experimental::default)
                    .cel_expression
                    .push(v.clone())
            }),
            "interface" => self.apply(|f| {
                f.interface.push(NetworkInterface {
                    index: 0,
                    name: v.clone(),
                })
            }),
            "encrypted" => self.apply(|f| f.encrypted.push(true)),
            "unencrypted" => self.apply(|f| f.encrypted.push(false)),
            _ => {}
        }
        // Like hubble: the left filter's conflicts, else the right one's.
        match self.namespace_conflicts(self.left.as_ref()) {
            Some(e) => Err(e),
            None => self
                .namespace_conflicts(self.right.as_ref())
                .map_or(Ok(()), Err),
        }
    }

    fn check_conflicts(&self) -> Result<(), String> {
        for group in CONFLICTS {
            for flag in group.iter().filter(|f| self.changed.contains(f)) {
                if let Some(other) = group
                    .iter()
                    .find(|o| *o != flag && self.changed.contains(o))
                {
                    return Err(format!("filters --{flag} and --{other} cannot be combined"));
                }
            }
        }
        Ok(())
    }

    /// Pods and services named with a namespace must agree with the namespace flags and with
    /// each other (checked as hubble does, before namespaces are applied).
    fn namespace_conflicts(&self, ff: Option<&FlowFilter>) -> Option<String> {
        let ff = ff?;
        let errors: Vec<String> = [
            ns_conflict(&self.ns, &ff.source_pod),
            ns_conflict(&self.ns, &ff.source_service),
            ns_conflict(&self.ns, &ff.destination_pod),
            ns_conflict(&self.ns, &ff.destination_service),
            ns_conflict(&self.src_ns, &ff.source_pod),
            ns_conflict(&self.src_ns, &ff.source_service),
            ns_conflict(&self.dst_ns, &ff.destination_pod),
            ns_conflict(&self.dst_ns, &ff.destination_service),
            inconsistent_namespaces(&ff.source_pod, &ff.source_service),
            inconsistent_namespaces(&ff.destination_pod, &ff.destination_service),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!errors.is_empty()).then(|| errors.join("\n"))
    }

    /// The list's filters: namespaces applied, left and right collapsed when equal.
    pub(crate) fn into_filters(self) -> Vec<FlowFilter> {
        let Tracker {
            left,
            right,
            ns,
            src_ns,
            dst_ns,
            ..
        } = self;
        if left.is_none()
            && right.is_none()
            && ns.is_empty()
            && src_ns.is_empty()
            && dst_ns.is_empty()
        {
            return vec![];
        }
        let mut left = left.unwrap_or_default();
        let mut right = right.unwrap_or_default();
        if !dst_ns.is_empty() {
            apply_dst_ns(&dst_ns, &mut left);
            apply_dst_ns(&dst_ns, &mut right);
        }
        if !src_ns.is_empty() {
            apply_src_ns(&src_ns, &mut left);
            apply_src_ns(&src_ns, &mut right);
        }
        if !ns.is_empty() {
            apply_src_ns(&ns, &mut left);
            apply_dst_ns(&ns, &mut right);
        }
        if left == right {
            vec![left]
        } else {
            vec![left, right]
        }
    }
}

fn namespace_of(name: &str) -> &str {
    name.split_once('/').map_or("", |(ns, _)| ns)
}

fn ns_conflict(namespaces: &[String], names: &[String]) -> Option<String> {
    namespaces.iter().find_map(|ns| {
        names.iter().find_map(|name| {
            let nn = namespace_of(name);
            (!nn.is_empty() && nn != ns).then(|| {
                format!(
                    "namespace conflict: {} does not contain {}",
                    values::go_quote(ns),
                    values::go_quote(name)
                )
            })
        })
    })
}

fn inconsistent_namespaces(pods: &[String], services: &[String]) -> Option<String> {
    pods.iter().find_map(|pod| {
        let pod_ns = namespace_of(pod);
        if pod_ns.is_empty() {
            return None;
        }
        services.iter().find_map(|svc| {
            (namespace_of(svc) != pod_ns).then(|| {
                format!(
                    "namespace of service {} conflict with pod {}",
                    values::go_quote(svc),
                    values::go_quote(pod_ns)
                )
            })
        })
    })
}

/// Prefixes every namespace-less name with each namespace (`api` + [a, b] → a/api, b/api).
fn add_namespaces(names: &mut Vec<String>, namespaces: &[String]) {
    if namespaces.is_empty() || names.is_empty() {
        return;
    }
    let mut out = Vec::with_capacity(names.len() * namespaces.len());
    for name in names.iter() {
        if name.contains('/') {
            out.push(name.clone());
        } else {
            out.extend(namespaces.iter().map(|ns| format!("{ns}/{name}")));
        }
    }
    *names = out;
}

fn apply_src_ns(namespaces: &[String], ff: &mut FlowFilter) {
    if ff.source_pod.is_empty() && ff.source_service.is_empty() {
        ff.source_pod = vec![String::new()];
    }
    add_namespaces(&mut ff.source_pod, namespaces);
    add_namespaces(&mut ff.source_service, namespaces);
}

fn apply_dst_ns(namespaces: &[String], ff: &mut FlowFilter) {
    if ff.destination_pod.is_empty() && ff.destination_service.is_empty() {
        ff.destination_pod = vec![String::new()];
    }
    add_namespaces(&mut ff.destination_pod, namespaces);
    add_namespaces(&mut ff.destination_service, namespaces);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(flags: &[(&'static str, &str)]) -> Result<Vec<FlowFilter>, String> {
        let mut t = Tracker::default();
        for (name, val) in flags {
            t.set(name, val)?;
        }
        Ok(t.into_filters())
    }

    #[test]
    fn either_direction_flags_pair_up_by_side() {
        let f = filters(&[("pod", "a"), ("port", "53")]).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].source_pod.clone(), f[0].source_port.clone()),
            (vec!["a".into()], vec!["53".into()])
        );
        assert!(f[0].destination_pod.is_empty() && f[0].destination_port.is_empty());
        assert_eq!(
            (f[1].destination_pod.clone(), f[1].destination_port.clone()),
            (vec!["a".into()], vec!["53".into()])
        );
    }

    #[test]
    fn directional_flags_collapse_into_one_filter() {
        let f = filters(&[
            ("from-pod", "xwing"),
            ("to-pod", "deathstar"),
            ("verdict", "DROPPED"),
        ])
        .unwrap();
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn namespaces_are_applied_last_to_names_without_one() {
        let f = filters(&[("namespace", "prod"), ("pod", "api")]).unwrap();
        assert_eq!(f[0].source_pod, vec!["prod/api"]);
        assert_eq!(f[1].destination_pod, vec!["prod/api"]);
        let f = filters(&[("from-namespace", "prod"), ("from-service", "api")]).unwrap();
        assert_eq!(f[0].source_service, vec!["prod/api"]);
        assert!(f[0].source_pod.is_empty());
        let f = filters(&[("all-namespaces", "false")]).unwrap();
        assert_eq!(f[0].source_pod, vec!["/"]);
    }

    #[test]
    fn conflicting_flags_name_the_group_order_first() {
        let e = filters(&[("to-ip", "1.1.1.1"), ("to-fqdn", "x")]).unwrap_err();
        assert_eq!(e, "filters --to-fqdn and --to-ip cannot be combined");
        let e = filters(&[("label", "a"), ("to-label", "b")]).unwrap_err();
        assert_eq!(e, "filters --label and --to-label cannot be combined");
    }

    #[test]
    fn a_namespaced_pod_must_match_the_namespace_flags() {
        let e = filters(&[("namespace", "prod"), ("pod", "default/api")]).unwrap_err();
        assert!(e.starts_with("namespace conflict"), "{e}");
        let e = filters(&[("from-pod", "prod/api"), ("from-service", "default/api")]).unwrap_err();
        assert_eq!(
            e,
            "namespace of service \"default/api\" conflict with pod \"prod\""
        );
        assert!(filters(&[("from-all-namespaces", "true"), ("from-pod", "x/y")]).is_err());
    }

    #[test]
    fn nothing_given_means_no_filters() {
        assert!(filters(&[]).unwrap().is_empty());
    }
}
