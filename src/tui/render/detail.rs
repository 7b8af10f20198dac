//! The detail view: every field of the selected flow that is set, grouped the way an SRE reads a
//! flow (who, what, verdict and why, where it was seen), then anything else the flow carries;
//! `o` switches to the flow's raw JSON (jsonpb, as `hubble observe -o jsonpb` prints it).

use chrono::{Local, TimeZone};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph},
};
use serde_json::Value;

use super::{Theme, thousands, title};
use crate::api::flow::{
    Endpoint, Flow, L7FlowType, Policy, Verdict, layer4::Protocol, layer7::Record,
};
use crate::format::{self, Side, sanitize};
use crate::tui::model::{self, Model};

pub fn draw(f: &mut Frame, m: &Model, d: &model::Detail, area: Rect) {
    let theme = Theme::of(m);
    let name = if d.raw {
        "Flow JSON — o details · y copy · Esc back"
    } else if m.hints.dropped {
        "Flow details — p suggest policy · o raw JSON · y copy · Esc back"
    } else {
        "Flow details — o raw JSON · y copy · Esc back"
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(title(name, &theme));
    let shown = d.lines.len();
    if d.total > shown {
        let above = if d.scroll > 0 { "↑" } else { " " };
        let below = if d.scroll + shown < d.total {
            "↓"
        } else {
            " "
        };
        let position = format!(
            " {above}{below} {}–{}/{} ",
            d.scroll + 1,
            d.scroll + shown,
            d.total
        );
        block = block.title_bottom(Line::styled(position, theme.header()).right_aligned());
    }
    // The model holds the lines on screen, each fitting the width: nothing to wrap or skip.
    f.render_widget(Paragraph::new(d.lines.clone()).block(block), area);
}

/// The view's lines, each fitting `width` columns: the grouped fields (long values continue
/// under themselves, a value past [`FIELD_CAP`] bytes is cut with a note) or the raw JSON (all
/// of it, wrapped).
pub(crate) fn build(flow: &Flow, raw: bool, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let lines = if raw {
        raw_lines(flow)
    } else if flow.verdict == Verdict::Dropped as i32 {
        // Why, right under the verdict and its reason: where it was enforced, what usually
        // causes it, what the flow cannot tell. Who and what are the fields' own sections.
        let mut fields = hang_indent(detail_lines(flow, theme), width);
        let at = fields
            .iter()
            .position(|l| l.spans.first().is_some_and(|s| s.content == "Source"))
            .unwrap_or(fields.len());
        let mut why = vec![rule("Why it was dropped", width, theme)];
        why.extend(
            parts(why_lines(flow, width, theme))
                .into_iter()
                .filter(|p| WHY_IN_DETAIL.iter().any(|h| heading(p).starts_with(h)))
                .flatten(),
        );
        why.push(Line::raw(""));
        fields.splice(at..at, why);
        fields
    } else {
        hang_indent(detail_lines(flow, theme), width)
    };
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        wrap_line(line, width.max(2), &mut out);
    }
    out
}

/// What the flow says about why it was dropped (or, for another verdict, what let it through),
/// as lines of at most `width` columns, headings lit (see [`crate::explain`]).
pub(crate) fn why_lines(flow: &Flow, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let e = crate::explain::explain(flow);
    crate::explain::lines(&e, width)
        .into_iter()
        .map(|l| {
            // Headings start at the left edge; facts and continuations are indented.
            if l.is_empty() || l.starts_with(' ') {
                Line::raw(l)
            } else {
                Line::styled(l, theme.header())
            }
        })
        .collect()
}

/// The parts of the explanation the detail view adds to the fields (the verdict, the policies,
/// who and what are fields of their own there).
const WHY_IN_DETAIL: [&str; 3] = ["Where", "Likely causes", "The flow cannot tell"];

/// The explanation's lines cut into parts, each a heading and the lines under it.
fn parts(lines: Vec<Line<'static>>) -> Vec<Vec<Line<'static>>> {
    let mut parts: Vec<Vec<Line<'static>>> = Vec::new();
    for line in lines {
        let heading = line.spans.first().is_some_and(|s| {
            let c = &s.content;
            !c.is_empty() && !c.starts_with(' ')
        });
        match parts.last_mut() {
            Some(part) if !heading => part.push(line),
            _ => parts.push(vec![line]),
        }
    }
    parts
}

/// A part's heading.
fn heading(part: &[Line<'static>]) -> String {
    part.first()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .unwrap_or_default()
}

/// The explanation's parts in the order a small panel shows them when they do not all fit: the
/// reason, the policies and the likely causes before where, who and what.
pub(crate) fn most_telling_first(lines: Vec<Line<'static>>) -> Vec<Line<'static>> {
    const ORDER: [&str; 4] = ["Dropped", "Not dropped", "Policies", "Likely causes"];
    let mut parts = parts(lines);
    let rank = |part: &Vec<Line<'static>>| {
        let head = heading(part);
        ORDER
            .iter()
            .position(|o| head.starts_with(o))
            .unwrap_or(ORDER.len())
    };
    // Stable: the other parts keep their order after these.
    parts.sort_by_key(rank);
    parts.into_iter().flatten().collect()
}

/// `── Title ─────…` across `width` columns: the start of a part of the view.
fn rule(name: &str, width: usize, theme: &Theme) -> Line<'static> {
    let head = format!("── {name} ");
    let fill = width.saturating_sub(head.chars().count());
    Line::styled(format!("{head}{}", "─".repeat(fill)), theme.header())
}

/// The most of one value the grouped view shows (the raw JSON view shows all of it, `y`
/// copies it): a 1 MB label would otherwise be thousands of lines between the user and the
/// fields after it.
pub const FIELD_CAP: usize = 4096;

/// The longest start of `s` of at most `max` bytes that ends on a character boundary.
fn cut_at(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `line` as lines of at most `width` columns (measured as ratatui draws them: by character,
/// the text being sanitised), styles kept; a break never separates a mark from its base.
fn wrap_line(line: Line<'static>, width: usize, out: &mut Vec<Line<'static>>) {
    use unicode_width::UnicodeWidthChar;
    let total: usize = line
        .spans
        .iter()
        .flat_map(|s| s.content.chars())
        .map(|c| c.width().unwrap_or(0))
        .sum();
    if total <= width {
        out.push(line);
        return;
    }
    let style = line.style;
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in line.spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if w > 0 && used + w > width && used > 0 {
                if !piece.is_empty() {
                    current.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                out.push(Line::from(std::mem::take(&mut current)).style(style));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            current.push(Span::styled(piece, span.style));
        }
    }
    if !current.is_empty() {
        out.push(Line::from(current).style(style));
    }
}

/// The flow as pretty-printed jsonpb; characters the sanitiser escapes are JSON `\u….` escapes
/// (the same value, as `y` copies it).
pub(crate) fn raw_lines(flow: &Flow) -> Vec<Line<'static>> {
    let json = serde_json::to_value(flow).unwrap_or(Value::Null);
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    let text = format::escape_json_text(&text);
    text.lines()
        .map(|l| Line::raw(sanitize(l).into_owned()))
        .collect()
}

/// Top-level JSON keys the grouped sections show; anything else goes under "Other fields".
const SHOWN: &[&str] = &[
    "time",
    "uuid",
    "verdict",
    "drop_reason_desc",
    "drop_reason",
    "source",
    "destination",
    "IP",
    "l4",
    "l7",
    "source_names",
    "destination_names",
    "source_service",
    "destination_service",
    "egress_allowed_by",
    "ingress_allowed_by",
    "egress_denied_by",
    "ingress_denied_by",
    "trace_observation_point",
    "trace_reason",
    "traffic_direction",
    "is_reply",
    "node_name",
    "node_labels",
    "interface",
    "Type",
    "event_type",
    "Summary",
];

pub(crate) fn detail_lines(flow: &Flow, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let section = |out: &mut Vec<Line<'static>>, name: &str| {
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(name.to_string(), theme.header()));
    };
    let kv = |out: &mut Vec<Line<'static>>, k: &str, v: String, style| {
        if v.is_empty() {
            return;
        }
        let shown = cut_at(&v, FIELD_CAP);
        let mut value = sanitize(shown).into_owned();
        if shown.len() < v.len() {
            let more = thousands((v.len() - shown.len()) as u64);
            value.push_str(&format!(" … ({more} more bytes: o shows them, y copies)"));
        }
        out.push(Line::from(vec![
            Span::styled(format!("  {:<20}", sanitize(k)), theme.dim()),
            Span::styled(value, style),
        ]));
    };
    let plain = ratatui::style::Style::default();

    section(&mut out, "Flow");
    let time = flow
        .time
        .and_then(|t| {
            Local
                .timestamp_opt(t.seconds, t.nanos.clamp(0, 999_999_999) as u32)
                .single()
        })
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f %Z").to_string())
        .unwrap_or_else(|| "(no time)".into());
    kv(&mut out, "time", time, plain);
    kv(&mut out, "uuid", flow.uuid.clone(), plain);
    kv(&mut out, "summary", format::summary(flow), plain);
    kv(
        &mut out,
        "type",
        format::flow_type_name(flow.r#type).into_owned(),
        plain,
    );
    if let Some(ev) = &flow.event_type {
        kv(
            &mut out,
            "event type",
            format!("{} (sub type {})", ev.r#type, ev.sub_type),
            plain,
        );
    }

    section(&mut out, "Verdict");
    kv(
        &mut out,
        "verdict",
        format::verdict_name(flow.verdict).into_owned(),
        theme.verdict(flow.verdict),
    );
    let reason = crate::store::drop_reason_of(flow);
    if flow.verdict == Verdict::Dropped as i32 || reason != 0 {
        kv(
            &mut out,
            "drop reason",
            format!(
                "{} — {}",
                format::drop_reason_name(reason),
                format::drop_reason_meaning(reason)
            ),
            theme.verdict(Verdict::Dropped as i32),
        );
    }
    let policies = |list: &[Policy]| {
        list.iter()
            .map(|p| {
                let name = if p.namespace.is_empty() {
                    p.name.clone()
                } else {
                    format!("{}/{}", p.namespace, p.name)
                };
                if p.kind.is_empty() {
                    name
                } else {
                    format!("{name} ({})", p.kind)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    kv(
        &mut out,
        "egress allowed by",
        policies(&flow.egress_allowed_by),
        plain,
    );
    kv(
        &mut out,
        "ingress allowed by",
        policies(&flow.ingress_allowed_by),
        plain,
    );
    kv(
        &mut out,
        "egress denied by",
        policies(&flow.egress_denied_by),
        theme.verdict(2),
    );
    kv(
        &mut out,
        "ingress denied by",
        policies(&flow.ingress_denied_by),
        theme.verdict(2),
    );

    for side in [Side::Source, Side::Destination] {
        let (name, ep, names, service, ip) = match side {
            Side::Source => (
                "Source",
                &flow.source,
                &flow.source_names,
                &flow.source_service,
                flow.ip.as_ref().map(|i| i.source.clone()),
            ),
            Side::Destination => (
                "Destination",
                &flow.destination,
                &flow.destination_names,
                &flow.destination_service,
                flow.ip.as_ref().map(|i| i.destination.clone()),
            ),
        };
        section(&mut out, name);
        if let Some(ep) = ep {
            endpoint_lines(&mut out, ep, &kv);
        }
        kv(&mut out, "IP", ip.unwrap_or_default(), plain);
        kv(
            &mut out,
            "port",
            format::endpoint_port(flow, side)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            plain,
        );
        kv(&mut out, "DNS names", names.join(", "), plain);
        if let Some(s) = service {
            kv(
                &mut out,
                "service",
                format!("{}/{}", s.namespace, s.name),
                plain,
            );
        }
    }
    if let Some(ip) = &flow.ip {
        kv(&mut out, "source xlated", ip.source_xlated.clone(), plain);
        kv(
            &mut out,
            "encrypted",
            if ip.encrypted {
                "yes".into()
            } else {
                String::new()
            },
            plain,
        );
    }

    section(&mut out, "L4");
    kv(
        &mut out,
        "protocol",
        format::protocol_name(flow).to_string(),
        plain,
    );
    match flow.l4.as_ref().and_then(|l| l.protocol.as_ref()) {
        Some(Protocol::Tcp(_)) => kv(
            &mut out,
            "TCP flags",
            format::summary(&Flow {
                l4: flow.l4.clone(),
                ..Default::default()
            })
            .trim_start_matches("TCP Flags: ")
            .to_string(),
            plain,
        ),
        Some(Protocol::IcmPv4(i)) => kv(
            &mut out,
            "ICMPv4",
            format!("type {} code {}", i.r#type, i.code),
            plain,
        ),
        Some(Protocol::IcmPv6(i)) => kv(
            &mut out,
            "ICMPv6",
            format!("type {} code {}", i.r#type, i.code),
            plain,
        ),
        _ => {}
    }
    if let Some(l7) = &flow.l7 {
        section(&mut out, "L7");
        let kind = L7FlowType::try_from(l7.r#type)
            .map(|t| t.as_str_name().to_string())
            .unwrap_or_else(|_| l7.r#type.to_string());
        kv(&mut out, "type", kind, plain);
        if l7.latency_ns > 0 {
            kv(
                &mut out,
                "latency",
                format!("{:.3} ms", l7.latency_ns as f64 / 1e6),
                plain,
            );
        }
        #[allow(deprecated)]
        match &l7.record {
            Some(Record::Dns(d)) => {
                kv(&mut out, "DNS query", d.query.clone(), plain);
                kv(&mut out, "query types", d.qtypes.join(", "), plain);
                kv(&mut out, "answer IPs", d.ips.join(", "), plain);
                kv(&mut out, "CNAMEs", d.cnames.join(", "), plain);
                kv(&mut out, "record types", d.rrtypes.join(", "), plain);
                if l7.r#type == L7FlowType::Response as i32 {
                    kv(
                        &mut out,
                        "rcode",
                        d.rcode.to_string(),
                        if d.rcode != 0 {
                            theme.verdict(2)
                        } else {
                            plain
                        },
                    );
                    kv(&mut out, "TTL", d.ttl.to_string(), plain);
                }
                kv(&mut out, "observed by", d.observation_source.clone(), plain);
            }
            Some(Record::Http(h)) => {
                kv(&mut out, "method", h.method.clone(), plain);
                kv(&mut out, "URL", h.url.clone(), plain);
                kv(&mut out, "protocol", h.protocol.clone(), plain);
                if h.code != 0 {
                    kv(
                        &mut out,
                        "status",
                        h.code.to_string(),
                        if h.code >= 500 {
                            theme.verdict(2)
                        } else {
                            plain
                        },
                    );
                }
                for header in &h.headers {
                    kv(
                        &mut out,
                        &format!("header {}", header.key),
                        header.value.clone(),
                        plain,
                    );
                }
            }
            Some(Record::Kafka(k)) => {
                kv(&mut out, "API key", k.api_key.clone(), plain);
                kv(&mut out, "API version", k.api_version.to_string(), plain);
                kv(&mut out, "topic", k.topic.clone(), plain);
                kv(
                    &mut out,
                    "correlation id",
                    k.correlation_id.to_string(),
                    plain,
                );
                kv(&mut out, "error code", k.error_code.to_string(), plain);
            }
            None => {}
        }
    }

    section(&mut out, "Observed");
    kv(&mut out, "node", flow.node_name.clone(), plain);
    kv(&mut out, "node labels", flow.node_labels.join(", "), plain);
    if let Some(i) = &flow.interface {
        kv(
            &mut out,
            "interface",
            format!("{} (index {})", i.name, i.index),
            plain,
        );
    }
    kv(
        &mut out,
        "observation point",
        nonzero(flow.trace_observation_point, format::observation_point_name),
        plain,
    );
    kv(
        &mut out,
        "trace reason",
        nonzero(flow.trace_reason, |v| {
            format::enum_name(v, crate::api::flow::TraceReason::as_str_name)
        }),
        plain,
    );
    kv(
        &mut out,
        "traffic direction",
        nonzero(flow.traffic_direction, format::traffic_direction_name),
        plain,
    );
    if let Some(r) = &flow.is_reply {
        kv(&mut out, "reply", r.value.to_string(), plain);
    }

    // Whatever the sections above do not show, flattened, so no set field is ever hidden.
    let json = serde_json::to_value(flow).unwrap_or(Value::Null);
    let mut other = Vec::new();
    if let Value::Object(map) = &json {
        for (k, v) in map {
            if !SHOWN.contains(&k.as_str()) {
                flatten(k, v, &mut other);
            }
        }
    }
    if !other.is_empty() {
        section(&mut out, "Other fields");
        for (k, v) in other {
            kv(&mut out, &k, v, plain);
        }
    }
    out
}

fn nonzero(v: i32, name: fn(i32) -> std::borrow::Cow<'static, str>) -> String {
    if v == 0 {
        String::new()
    } else {
        name(v).into_owned()
    }
}

/// Adds a `key  value` line (nothing when the value is empty).
type AddLine<'f> = &'f dyn Fn(&mut Vec<Line<'static>>, &str, String, ratatui::style::Style);

fn endpoint_lines(out: &mut Vec<Line<'static>>, ep: &Endpoint, kv: AddLine<'_>) {
    let plain = ratatui::style::Style::default();
    kv(out, "namespace", ep.namespace.clone(), plain);
    kv(out, "pod", ep.pod_name.clone(), plain);
    kv(out, "cluster", ep.cluster_name.clone(), plain);
    if ep.identity != 0 {
        kv(out, "identity", ep.identity.to_string(), plain);
    }
    if ep.id != 0 {
        kv(out, "endpoint id", ep.id.to_string(), plain);
    }
    for w in &ep.workloads {
        kv(out, "workload", format!("{} {}", w.kind, w.name), plain);
    }
    for l in &ep.labels {
        kv(out, "label", l.clone(), plain);
    }
}

/// `{"a":{"b":[1,2]}}` → `a.b[0] = 1`, `a.b[1] = 2`.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Key/value lines longer than `width` continue under their value, not at the left edge: the
/// keys' column stays clear. Breaks after a comma or a space where one is near the end of the
/// room, else at the width.
pub(crate) fn hang_indent(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    use crate::tui::shorten::width as w;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let [key, value] = line.spans.as_slice() else {
            out.push(line);
            continue;
        };
        let indent = w(&key.content);
        if !key.content.starts_with("  ")
            || indent + w(&value.content) <= width
            || width < indent + 10
        {
            out.push(line);
            continue;
        }
        let room = width - indent;
        let mut rest: &str = &value.content;
        let mut first = true;
        while !rest.is_empty() {
            let cut = break_at(rest, room);
            let (piece, tail) = rest.split_at(cut);
            let lead = if first {
                key.clone()
            } else {
                Span::raw(" ".repeat(indent))
            };
            out.push(Line::from(vec![
                lead,
                Span::styled(piece.to_string(), value.style),
            ]));
            rest = tail.trim_start_matches(' ');
            first = false;
        }
    }
    out
}

/// Where to end a piece of `s` of at most `room` columns: after the last comma or space in its
/// last two thirds, else at the room (on a character boundary, at least one character).
fn break_at(s: &str, room: usize) -> usize {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    let mut end = s.len();
    for (i, c) in s.char_indices() {
        used += c.width().unwrap_or(0);
        if used > room {
            end = i.max(c.len_utf8().min(s.len()));
            break;
        }
    }
    if end == s.len() {
        return end;
    }
    let piece = &s[..end];
    match piece.rfind([' ', ',']) {
        Some(p) if p + 1 >= end / 3 => p + 1,
        _ => end,
    }
}

#[cfg(test)]
mod hang_tests {
    use super::*;

    fn text(l: &Line<'_>) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn cols(l: &Line<'_>) -> usize {
        use unicode_width::UnicodeWidthChar;
        text(l).chars().map(|c| c.width().unwrap_or(0)).sum()
    }

    #[test]
    fn long_lines_wrap_by_columns_keeping_styles_marks_and_wide_characters() {
        let style = ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line = Line::from(vec![
            Span::raw("ab"),
            Span::styled("cde\u{301}fg日本語h", style),
        ]);
        let mut out = Vec::new();
        wrap_line(line, 5, &mut out);
        let texts: Vec<String> = out.iter().map(text).collect();
        assert_eq!(texts, ["abcde\u{301}", "fg日", "本語h"]);
        assert!(out.iter().all(|l| cols(l) <= 5));
        // The styled part keeps its style on every line it continues on.
        assert_eq!(out[1].spans[0].style, style);
        assert_eq!(out[0].spans[0].content, "ab");
    }

    #[test]
    fn a_cut_ends_on_a_character_boundary() {
        assert_eq!(cut_at("日本語", 4), "日");
        assert_eq!(cut_at("abc", 10), "abc");
        assert_eq!(cut_at("ab日", 3), "ab");
    }

    #[test]
    fn every_built_line_fits_and_a_huge_value_is_cut_with_a_note() {
        use crate::api::flow::Endpoint;
        let flow = Flow {
            node_name: "n".repeat(3 * FIELD_CAP),
            source: Some(Endpoint {
                labels: vec![
                    format!("k8s:wide={}", "日本".repeat(3000)),
                    "k8s:a=b".into(),
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let theme = Theme { no_color: true };
        for width in [20, 58, 78, 198] {
            for raw in [false, true] {
                let lines = build(&flow, raw, width, &theme);
                assert!(
                    lines.iter().all(|l| cols(l) <= width),
                    "raw {raw} at {width}"
                );
                let all: String = lines.iter().map(text).collect();
                if raw {
                    // All of it, over the lines.
                    assert!(all.matches('n').count() >= 3 * FIELD_CAP);
                } else {
                    let note = format!(
                        " … ({} more bytes: o shows them, y copies)",
                        thousands((2 * FIELD_CAP) as u64)
                    );
                    // Continuation lines start under the value, and a break may take a space.
                    let bare = |s: &str| s.split_whitespace().collect::<String>();
                    assert!(bare(&all).contains(&bare(&note)), "{width}");
                    assert!(all.contains("k8s:a=b"), "the fields after it still show");
                }
            }
        }
    }

    #[test]
    fn long_values_continue_under_their_value() {
        let line = Line::from(vec![
            Span::raw(format!("  {:<20}", "node labels")),
            Span::raw(
                "kubernetes.io/arch=amd64, kubernetes.io/hostname=kind-worker, kubernetes.io/os=linux",
            ),
        ]);
        let out = hang_indent(vec![line], 60);
        assert!(out.len() >= 2, "{out:?}");
        for l in &out {
            assert!(l.width() <= 60, "{l:?}");
        }
        let text: Vec<String> = out.iter().map(|l| l.to_string()).collect();
        assert!(text[1].starts_with(&" ".repeat(22)), "{text:?}");
        assert!(text[0].ends_with("amd64, "), "{text:?}");
        // A value without spaces is cut at the width; nothing is lost.
        let long = "x".repeat(100);
        let out = hang_indent(
            vec![Line::from(vec![
                Span::raw(format!("  {:<20}", "k")),
                Span::raw(long.clone()),
            ])],
            50,
        );
        let joined: String = out.iter().map(|l| l.spans[1].content.to_string()).collect();
        assert_eq!(joined, long);
        // Wide characters never split or overflow.
        let wide = "日本語".repeat(20);
        let out = hang_indent(
            vec![Line::from(vec![
                Span::raw(format!("  {:<20}", "k")),
                Span::raw(wide.clone()),
            ])],
            41,
        );
        assert!(out.iter().all(|l| l.width() <= 41));
        let joined: String = out.iter().map(|l| l.spans[1].content.to_string()).collect();
        assert_eq!(joined, wide);
    }
}
