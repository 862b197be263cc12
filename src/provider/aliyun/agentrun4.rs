//! AgentRun's data-plane signature, AGENTRUN4-HMAC-SHA256, for requests made with an
//! AccessKey (the `-ram` data host).
//!
//! The canonical request is the method, the path as sent, the query (decoded, then
//! re-encoded RFC 3986 style, sorted by key, `k=` for an empty value), the signed headers
//! (`host`, `x-acs-date`, `x-acs-content-sha256` = `UNSIGNED-PAYLOAD`, and
//! `x-acs-security-token` with STS; `content-type` only when the caller signs it) each as
//! `name:value`, their names joined by `;`, and `UNSIGNED-PAYLOAD`. The string to sign is
//! `AGENTRUN4-HMAC-SHA256\n` and the hex SHA-256 of that. The key is an HMAC chain from
//! `aliyun_v4<secret>` over the day, the region, `agentrun` and `aliyun_v4_request`.

use sha2::{Digest, Sha256};

use super::acs3::{hex, hmac_sha256, percent_encode};

pub const ALGORITHM: &str = "AGENTRUN4-HMAC-SHA256";
const PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const SERVICE: &str = "agentrun";
const SCOPE_END: &str = "aliyun_v4_request";

pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub security_token: Option<&'a str>,
    pub region: &'a str,
}

/// The headers that sign a request to `host` + `path` (with its raw `query`) at `date`
/// (`YYYY-MM-DDTHH:MM:SSZ`): host, x-acs-date, x-acs-content-sha256, the token if any,
/// and `Agentrun-Authorization`.
pub fn sign(
    method: &str,
    host: &str,
    path: &str,
    query: &str,
    date: &str,
    credentials: &Credentials,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("host".to_string(), host.to_string()),
        ("x-acs-date".to_string(), date.to_string()),
        ("x-acs-content-sha256".to_string(), PAYLOAD.to_string()),
    ];
    if let Some(token) = credentials.security_token {
        headers.push(("x-acs-security-token".into(), token.to_string()));
    }
    let signature = signature(method, path, query, &headers, date, credentials);
    let names = signed_names(&headers);
    let day = day_of(date);
    headers.push((
        "Agentrun-Authorization".into(),
        format!(
            "{ALGORITHM} Credential={}/{day}/{}/{SERVICE}/{SCOPE_END},SignedHeaders={names},Signature={signature}",
            credentials.access_key_id, credentials.region
        ),
    ));
    headers
}

/// The hex signature of a request whose signed headers are `headers` (lower-case names).
pub fn signature(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    date: &str,
    credentials: &Credentials,
) -> String {
    let canonical = canonical_request(method, path, query, headers);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac_sha256(
        format!("aliyun_v4{}", credentials.secret).as_bytes(),
        day_of(date).as_bytes(),
    );
    for part in [credentials.region, SERVICE, SCOPE_END] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    hex(&hmac_sha256(&key, string_to_sign.as_bytes()))
}

pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&') {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let (key, value) = (form_decode(key), form_decode(value));
        // A key given twice keeps its last value.
        pairs.retain(|(k, _)| *k != key);
        pairs.push((key, value));
    }
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut signed: Vec<&(String, String)> = headers.iter().filter(|(k, _)| signable(k)).collect();
    signed.sort();
    let canonical_headers: String = signed
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let path = if path.is_empty() { "/" } else { path };
    format!(
        "{method}\n{path}\n{query}\n{canonical_headers}\n{}\n{PAYLOAD}",
        signed_names(headers)
    )
}

fn signable(name: &str) -> bool {
    name == "host" || name == "content-type" || name.starts_with("x-acs-")
}

fn signed_names(headers: &[(String, String)]) -> String {
    let mut names: Vec<&str> = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| signable(k))
        .collect();
    names.sort();
    names.join(";")
}

/// `2026-03-06T12:00:00Z` → `20260306`.
fn day_of(date: &str) -> String {
    date.get(..10).unwrap_or(date).replace('-', "")
}

/// URL decoding with `+` as a space, as form data has it.
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDK_HOST: &str = "1431999136518149-ram.agentrun-data.cn-hangzhou.aliyuncs.com";

    fn credentials<'a>(
        secret: &'a str,
        region: &'a str,
        token: Option<&'a str>,
    ) -> Credentials<'a> {
        Credentials {
            access_key_id: "LTAI5t5opp3xMWk2B3a4gZVq",
            secret,
            security_token: token,
            region,
        }
    }

    fn authorization(headers: &[(String, String)]) -> &str {
        &headers
            .iter()
            .find(|(k, _)| k == "Agentrun-Authorization")
            .unwrap()
            .1
    }

    // Expected values computed by hand from the algorithm with Python's hashlib and hmac
    // (not with this code); the first three also match the AgentRun SDK's own tests.
    #[test]
    fn health_check_get() {
        let headers = sign(
            "GET",
            SDK_HOST,
            "/sandboxes/sbx-xxx/health",
            "",
            "2026-03-06T12:00:00Z",
            &credentials("secret", "cn-hangzhou", None),
        );
        assert_eq!(
            authorization(&headers),
            "AGENTRUN4-HMAC-SHA256 Credential=LTAI5t5opp3xMWk2B3a4gZVq/20260306/cn-hangzhou/agentrun/aliyun_v4_request,\
             SignedHeaders=host;x-acs-content-sha256;x-acs-date,\
             Signature=e1479ea1aec37e55f91d82b1ccc48df2feef04184a911f91a3e3fe0e27d02610"
        );
    }

    #[test]
    fn a_query_with_an_empty_value() {
        let c = credentials("secret", "cn-hangzhou", None);
        let headers = sign(
            "GET",
            SDK_HOST,
            "/path",
            "zoo=&foo=bar",
            "2026-03-06T12:00:00Z",
            &c,
        );
        assert!(authorization(&headers).ends_with(
            "Signature=2de34f2c0ef3d6f0f6460f994ee3fea8c940241fcc2ff2f008a776f1be9b4dba"
        ));
    }

    #[test]
    fn a_signed_content_type() {
        let c = credentials("secret", "cn-hangzhou", None);
        let headers = vec![
            ("host".to_string(), SDK_HOST.to_string()),
            ("x-acs-date".to_string(), "2026-03-06T12:00:00Z".to_string()),
            ("x-acs-content-sha256".to_string(), PAYLOAD.to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        assert_eq!(
            signature(
                "POST",
                "/path",
                "foo=bar&zoo=",
                &headers,
                "2026-03-06T12:00:00Z",
                &c
            ),
            "fdcde808b0dc7526d8083e681ca9a64728e5c1e67e4c92735dfb2268ecc71fb2"
        );
    }

    #[test]
    fn an_execute_in_another_region() {
        let c = Credentials {
            access_key_id: "AK",
            secret: "S3CRET",
            security_token: None,
            region: "cn-beijing",
        };
        let host = "123-ram.agentrun-data.cn-beijing.aliyuncs.com";
        let headers = sign(
            "POST",
            host,
            "/sandboxes/sb-1/contexts/execute",
            "",
            "2026-11-22T08:00:00Z",
            &c,
        );
        assert_eq!(
            canonical_request(
                "POST",
                "/sandboxes/sb-1/contexts/execute",
                "",
                &headers[..3]
            ),
            "POST\n/sandboxes/sb-1/contexts/execute\n\n\
             host:123-ram.agentrun-data.cn-beijing.aliyuncs.com\n\
             x-acs-content-sha256:UNSIGNED-PAYLOAD\nx-acs-date:2026-11-22T08:00:00Z\n\n\
             host;x-acs-content-sha256;x-acs-date\nUNSIGNED-PAYLOAD"
        );
        assert!(authorization(&headers).ends_with(
            "Signature=feb6aea9b3fcb7734fd70f0f04f73f03fe044bb6159246f5d2f19320b03a74cc"
        ));
    }

    #[test]
    fn a_delete_with_a_token_a_port_and_an_encoded_query() {
        let c = Credentials {
            access_key_id: "AK",
            secret: "S3CRET",
            security_token: Some("TOKEN"),
            region: "cn-hangzhou",
        };
        let headers = sign(
            "DELETE",
            "127.0.0.1:8080",
            "/sandboxes/sb 2",
            "b=2+3&a=x%2Fy",
            "2026-11-22T23:59:59Z",
            &c,
        );
        assert!(authorization(&headers).contains(
            "SignedHeaders=host;x-acs-content-sha256;x-acs-date;x-acs-security-token,\
             Signature=70a73d40865d2a37a2692711e511d0e56c8e92eaf7f4e9021ea10fbffcdb5dac"
        ));
    }
}
