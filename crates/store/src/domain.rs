//! What an order request must be before the store will take it.
//!
//! `POST /api/orders` and the order form both arrive as loosely typed input
//! ([`OrderRequest`]) and leave through [`OrderRequest::parse`] as a
//! [`ValidOrder`] — or as a list of every problem, each tied to the field
//! it concerns, so the API answers one complete problem+json and the form
//! shows each message next to its input. Whether a SKU exists is a question
//! for the catalog (the database), so it is checked when the order is
//! priced, in `checkout::place_order`, with the same kind of field error.

use serde::Deserialize;

use contract::order::{Customer, LineItem};
use contract::{FieldError, Quantity, Sku};

/// Lines per order: at least one, at most twenty.
pub const MAX_LINES: usize = 20;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;

/// An order request as received: every field optional and loosely typed,
/// so that missing or mistyped fields become field errors, not a generic
/// "could not deserialize".
#[derive(Debug, Default, Deserialize)]
pub struct OrderRequest {
    #[serde(default)]
    pub customer: Option<CustomerRequest>,
    #[serde(default)]
    pub items: Option<Vec<LineRequest>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CustomerRequest {
    #[serde(default)]
    pub name: Option<serde_json::Value>,
    #[serde(default)]
    pub email: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LineRequest {
    #[serde(default)]
    pub sku: Option<serde_json::Value>,
    #[serde(default)]
    pub quantity: Option<serde_json::Value>,
}

/// An order request that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrder {
    pub customer: Customer,
    pub items: Vec<LineItem>,
}

impl OrderRequest {
    pub fn parse(self) -> Result<ValidOrder, Vec<FieldError>> {
        let mut errors = Vec::new();
        let customer = self.customer.unwrap_or_default();
        let name = parse_name(customer.name.as_ref())
            .map_err(|m| errors.push(FieldError::new("customer.name", m)));
        let email = parse_email(customer.email.as_ref())
            .map_err(|m| errors.push(FieldError::new("customer.email", m)));

        let mut items = Vec::new();
        match self.items {
            None => errors.push(FieldError::new("items", "an order needs at least one item")),
            Some(lines) if lines.is_empty() => {
                errors.push(FieldError::new("items", "an order needs at least one item"))
            }
            Some(lines) if lines.len() > MAX_LINES => errors.push(FieldError::new(
                "items",
                format!(
                    "an order has at most {MAX_LINES} lines (this one has {})",
                    lines.len()
                ),
            )),
            Some(lines) => {
                for (i, line) in lines.into_iter().enumerate() {
                    let sku = match line.sku.as_ref().and_then(|v| v.as_str()) {
                        Some(text) => Sku::parse(text).map_err(|e| e.0),
                        None => Err("a SKU is required".to_owned()),
                    };
                    let quantity = parse_quantity(line.quantity.as_ref());
                    match (sku, quantity) {
                        (Ok(sku), Ok(quantity)) => {
                            if items.iter().any(|l: &LineItem| l.sku == sku) {
                                errors.push(FieldError::new(
                                    format!("items[{i}].sku"),
                                    format!("{sku} appears twice; put the total on one line"),
                                ));
                            } else {
                                items.push(LineItem { sku, quantity });
                            }
                        }
                        (sku, quantity) => {
                            if let Err(m) = sku {
                                errors.push(FieldError::new(format!("items[{i}].sku"), m));
                            }
                            if let Err(m) = quantity {
                                errors.push(FieldError::new(format!("items[{i}].quantity"), m));
                            }
                        }
                    }
                }
            }
        }

        match (name, email) {
            (Ok(name), Ok(email)) if errors.is_empty() => Ok(ValidOrder {
                customer: Customer { name, email },
                items,
            }),
            _ => Err(errors),
        }
    }
}

fn parse_name(value: Option<&serde_json::Value>) -> Result<String, String> {
    let text = value
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("a name is required")?;
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(format!("a name has at most {MAX_NAME_CHARS} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("a name cannot contain control characters".into());
    }
    Ok(text.to_owned())
}

/// Deliberately modest: something@something.tld, no spaces. Real address
/// validation is sending a confirmation mail, which a demo shop does not do.
fn parse_email(value: Option<&serde_json::Value>) -> Result<String, String> {
    let text = value
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("an email address is required")?;
    if text.len() > MAX_EMAIL_CHARS {
        return Err(format!(
            "an email address has at most {MAX_EMAIL_CHARS} characters"
        ));
    }
    let valid = match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid {
        Ok(text.to_owned())
    } else {
        Err("this does not look like an email address (name@example.com)".into())
    }
}

fn parse_quantity(value: Option<&serde_json::Value>) -> Result<Quantity, String> {
    let range = || {
        format!(
            "quantity must be a whole number from 1 to {}",
            Quantity::MAX
        )
    };
    let value = value.ok_or_else(|| "a quantity is required".to_owned())?;
    match value {
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(q) => Quantity::parse(q).map_err(|_| range()),
            // Too big for i64, or a fraction.
            None => Err(range()),
        },
        // Form posts carry numbers as text.
        serde_json::Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| range())
            .and_then(|q| Quantity::parse(q).map_err(|_| range())),
        _ => Err(range()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<ValidOrder, Vec<FieldError>> {
        serde_json::from_value::<OrderRequest>(v).unwrap().parse()
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_order_parses() {
        let o = parse(json!({
            "customer": {"name": " Ada ", "email": "ada@example.com"},
            "items": [{"sku": "tea-sencha", "quantity": 2}, {"sku": "MUG-BLUE", "quantity": "1"}]
        }))
        .unwrap();
        assert_eq!(o.customer.name, "Ada");
        assert_eq!(o.items[0].sku.as_str(), "TEA-SENCHA");
        assert_eq!(o.items[1].quantity.get(), 1);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errs = parse(json!({
            "customer": {"name": "", "email": "nope"},
            "items": [{"sku": "TEA-SENCHA", "quantity": 0}, {"sku": "<b>", "quantity": 1e30}, {"quantity": -1}]
        }))
        .unwrap_err();
        assert_eq!(
            fields(errs),
            vec![
                "customer.name",
                "customer.email",
                "items[0].quantity",
                "items[1].sku",
                "items[1].quantity",
                "items[2].sku",
                "items[2].quantity"
            ]
        );
    }

    #[test]
    fn quantities_outside_1_to_99_are_refused() {
        for q in [
            json!(0),
            json!(-5),
            json!(100),
            json!(1.5),
            json!(u64::MAX),
            json!(true),
            json!("x"),
        ] {
            let errs = parse(json!({
                "customer": {"name": "A", "email": "a@b.co"},
                "items": [{"sku": "TEA-SENCHA", "quantity": q}]
            }))
            .unwrap_err();
            assert_eq!(fields(errs), vec!["items[0].quantity"], "{q}");
        }
    }

    #[test]
    fn item_count_is_bounded_and_duplicates_refused() {
        let errs =
            parse(json!({"customer": {"name": "A", "email": "a@b.co"}, "items": []})).unwrap_err();
        assert_eq!(fields(errs), vec!["items"]);
        let errs = parse(json!({"customer": {"name": "A", "email": "a@b.co"}})).unwrap_err();
        assert_eq!(fields(errs), vec!["items"]);
        let many: Vec<_> = (0..21)
            .map(|i| json!({"sku": format!("SKU-{i}"), "quantity": 1}))
            .collect();
        let errs = parse(json!({"customer": {"name": "A", "email": "a@b.co"}, "items": many}))
            .unwrap_err();
        assert_eq!(fields(errs), vec!["items"]);
        let errs = parse(json!({
            "customer": {"name": "A", "email": "a@b.co"},
            "items": [{"sku": "TEA-SENCHA", "quantity": 1}, {"sku": "tea-sencha", "quantity": 2}]
        }))
        .unwrap_err();
        assert_eq!(fields(errs), vec!["items[1].sku"]);
    }

    #[test]
    fn a_missing_customer_is_two_field_errors() {
        let errs = parse(json!({"items": [{"sku": "TEA-SENCHA", "quantity": 1}]})).unwrap_err();
        assert_eq!(fields(errs), vec!["customer.name", "customer.email"]);
    }
}
