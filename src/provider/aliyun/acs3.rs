//! Alibaba Cloud's V3 request signature, ACS3-HMAC-SHA256, which AgentRun's control plane
//! (`agentrun.<region>.aliyuncs.com`, API version 2025-09-10) requires.
//!
//! The canonical request is the method, the percent-encoded path, the sorted query, the
//! signed headers (`host`, `content-type` and every `x-acs-*`, lower-case, sorted) each
//! as `name:value`, their names joined by `;`, and the hex SHA-256 of the body, one per
//! line. The string to sign is `ACS3-HMAC-SHA256\n` and the hex SHA-256 of that; the
//! signature is the hex HMAC-SHA256 of it under the AccessKey secret.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// A request about to be signed.
pub struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    /// The path as sent, before percent-encoding.
    pub path: &'a str,
    pub query: &'a [(String, String)],
    /// Headers besides `host` and the `x-acs-content-sha256` this adds.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The headers to send with `request`: `host`, `x-acs-content-sha256` and `Authorization`
/// added to its own.
pub fn sign(request: &Request, access_key_id: &str, secret: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    headers.push(("host".into(), request.host.to_string()));
    headers.push((
        "x-acs-content-sha256".into(),
        hex(&Sha256::digest(request.body)),
    ));
    let (canonical, signed) =
        canonical_request(request.method, request.path, request.query, &headers);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let signature = hex(&hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    headers.push((
        "authorization".into(),
        format!(
            "{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"
        ),
    ));
    headers
}

/// The canonical request and the signed header names, for headers already lower-case
/// and holding `x-acs-content-sha256`.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
) -> (String, String) {
    let mut query: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut signed: Vec<&(String, String)> = headers
        .iter()
        .filter(|(k, _)| k == "host" || k == "content-type" || k.starts_with("x-acs-"))
        .collect();
    signed.sort();
    let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names = signed
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let payload = headers
        .iter()
        .find(|(k, _)| k == "x-acs-content-sha256")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        path.split('/')
            .map(percent_encode)
            .collect::<Vec<_>>()
            .join("/")
    };
    (
        format!("{method}\n{path}\n{query}\n{canonical_headers}\n{names}\n{payload}"),
        names,
    )
}

/// RFC 3986 percent-encoding: everything but letters, digits, `-`, `_`, `.` and `~`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // The expected values below were computed by hand from the algorithm, with Python's
    // hashlib and hmac, not with this code.
    #[test]
    fn a_get_with_a_query_signs_as_computed_by_hand() {
        let query = owned(&[("b", "2 3"), ("a", "x/y")]);
        let headers = owned(&[
            ("x-acs-action", "GetTemplate"),
            ("x-acs-version", "2025-09-10"),
            ("x-acs-date", "2026-01-02T03:04:05Z"),
            ("x-acs-signature-nonce", "nonce-1"),
        ]);
        let request = Request {
            method: "GET",
            host: "agentrun.cn-hangzhou.aliyuncs.com",
            path: "/2025-09-10/templates/my template",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let signed = sign(&request, "AKID", "SECRET");
        let (canonical, _) =
            canonical_request("GET", request.path, &query, &signed[..signed.len() - 1]);
        assert_eq!(
            canonical,
            "GET\n/2025-09-10/templates/my%20template\na=x%2Fy&b=2%203\n\
             host:agentrun.cn-hangzhou.aliyuncs.com\nx-acs-action:GetTemplate\n\
             x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-acs-date:2026-01-02T03:04:05Z\nx-acs-signature-nonce:nonce-1\nx-acs-version:2025-09-10\n\n\
             host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let authorization = &signed.last().unwrap().1;
        assert_eq!(
            authorization,
            "ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=179c72fd72800ab045d1950ec6db7bed1f7cd624ca5525967b4d123e559553b8"
        );
    }
}
