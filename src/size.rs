//! Byte sizes as users write them: `256MiB`, `256m`, `1G`, `512k`, `1048576B`.
//! A bare number means MiB (a bare `256` meaning bytes is never what anyone wants).

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("`{0}` is not a size: write a number with a unit, like 256MiB, 512k or 1G (a bare number means MiB)")]
pub struct SizeError(pub String);

pub fn parse(text: &str) -> Result<u64, SizeError> {
    let bad = || SizeError(text.to_string());
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "m" | "mb" | "mib" => 1 << 20,
        "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let bytes = number * multiplier as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// `268435456` → `256 MiB`.
pub fn format(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ];
    for (unit, size) in UNITS {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if value.fract() == 0.0 {
                format!("{value:.0} {unit}")
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    "0 B".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("256MiB"), Ok(256 << 20));
        assert_eq!(parse("256m"), Ok(256 << 20));
        assert_eq!(parse("256"), Ok(256 << 20));
        assert_eq!(parse("1G"), Ok(1 << 30));
        assert_eq!(parse("512k"), Ok(512 << 10));
        assert_eq!(parse("0.5g"), Ok(512 << 20));
        assert!(parse("lots").is_err());
        assert!(parse("10 parsecs").is_err());
        assert!(parse("0").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(format(256 << 20), "256 MiB");
        assert_eq!(format(1536), "1.5 KiB");
    }
}
