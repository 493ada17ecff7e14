//! One validation of an order, whichever door it comes in by.
//!
//! An order reaches the two services four ways: a customer's
//! `POST /api/orders` (or the shop's form), the store's call to
//! `/update_inventory` (JSON or XML), a pushed `order.created` webhook, and
//! a page of the pulled feed. If each door checked its own way, the same
//! order could be refused at one and accepted at another — a duplicate SKU
//! line summed here and refused there, a quantity `"2"` taken as text by
//! one side only — and a learner comparing the modes would be comparing
//! validators instead of patterns. So the rules live here, once:
//!
//! * 1 to [`MAX_LINES`] lines, each SKU at most once ("put the total on one
//!   line" — summing silently would hide a client's bug);
//! * a SKU as [`Sku::parse`] allows; a quantity that is a *number* (in JSON;
//!   XML and forms carry only text, so there an integer literal is the
//!   number) from 1 to [`Quantity::MAX`];
//! * a customer name of 1 to [`Customer::MAX_NAME_CHARS`] characters and an
//!   email of at most [`Customer::MAX_EMAIL_CHARS`], both *human text*
//!   (the one rule for free text people read, [`crate::human_text`]).
//!
//! Input is first read loosely ([`Raw`]), so *every* problem of a request is
//! reported at once, each tied to its field (`items[2].quantity`), instead
//! of stopping at a deserializer's first complaint. Orders that arrive fully
//! typed (a webhook's event, a feed page) go through [`check_order`], which
//! applies the rules types alone cannot hold.

use serde_json::Value;

use crate::domain::{Quantity, Sku};
use crate::human_text::check as human_text;
use crate::ids::OrderId;
use crate::order::{Customer, LineItem, NewOrder, Order};
use crate::problem::FieldError;

/// Lines per order: at least one, at most twenty.
pub const MAX_LINES: usize = 20;

/// One input value, as loosely as the formats allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw<'a> {
    Missing,
    /// A JSON string, or text that is not an integer literal.
    Text(&'a str),
    /// A JSON integer, or an integer literal in XML or a form.
    Int(i64),
    /// Anything else (a fraction, `true`, an object, …), by kind.
    Other(&'static str),
}

impl<'a> Raw<'a> {
    /// A JSON member as it arrived (strings stay text: JSON has numbers).
    fn json(value: Option<&'a Value>) -> Raw<'a> {
        match value {
            None | Some(Value::Null) => Raw::Missing,
            Some(Value::String(s)) => Raw::Text(s),
            // JSON has one number type: `2.0` is the whole number 2 (as
            // JSON Schema's `integer` reads it), `2.5` is not.
            Some(Value::Number(n)) => match n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() <= 9.0e15)
                    .map(|f| f as i64)
            }) {
                Some(i) => Raw::Int(i),
                None => Raw::Other("a number that is not a whole number in range"),
            },
            Some(Value::Bool(_)) => Raw::Other("true or false"),
            Some(Value::Array(_)) => Raw::Other("a list"),
            Some(Value::Object(_)) => Raw::Other("an object"),
        }
    }

    /// Text from a format without numbers (XML, a form): an integer
    /// literal is read as the number it spells.
    fn text(value: Option<&'a str>) -> Raw<'a> {
        match value {
            None => Raw::Missing,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(i) => Raw::Int(i),
                Err(_) => Raw::Text(s),
            },
        }
    }

    /// A number in a format without numbers (a form's or an XML
    /// element's quantity): an integer literal is the number, and any
    /// other text is simply not one — there, unlike in JSON, text is the
    /// only way to write a number.
    pub fn number_text(value: Option<&'a str>) -> Raw<'a> {
        match Raw::text(value) {
            Raw::Text(_) => Raw::Other("text that is not a whole number"),
            other => other,
        }
    }

    fn as_text(self) -> Option<&'a str> {
        match self {
            Raw::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One order line as read loosely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLine<'a> {
    pub sku: Raw<'a>,
    pub quantity: Raw<'a>,
}

impl<'a> RawLine<'a> {
    /// `{"sku": …, "quantity": …}`; anything else is a line with neither.
    fn json(value: &'a Value) -> RawLine<'a> {
        RawLine {
            sku: Raw::json(value.get("sku")),
            quantity: Raw::json(value.get("quantity")),
        }
    }
}

/// Collects the field errors of one request.
#[derive(Debug, Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }
}

/// The lines of an order (`None`: the list is missing, or is not a list).
fn lines(items: Option<&[RawLine<'_>]>, errors: &mut Errors) -> Vec<LineItem> {
    let Some(items) = items else {
        errors.add("items", "an order needs at least one item");
        return Vec::new();
    };
    if items.is_empty() {
        errors.add("items", "an order needs at least one item");
        return Vec::new();
    }
    if items.len() > MAX_LINES {
        errors.add(
            "items",
            format!(
                "an order has at most {MAX_LINES} lines (this one has {})",
                items.len()
            ),
        );
        return Vec::new();
    }
    let mut parsed: Vec<LineItem> = Vec::with_capacity(items.len());
    for (i, line) in items.iter().enumerate() {
        let sku = match line.sku {
            Raw::Text(text) => Sku::parse(text).map_err(|e| e.0),
            Raw::Missing => Err("a SKU is required".to_owned()),
            _ => Err("a SKU is text, such as \"TEA-SENCHA\"".to_owned()),
        };
        let quantity = quantity(line.quantity);
        match (sku, quantity) {
            (Ok(sku), Ok(quantity)) => {
                if parsed.iter().any(|l| l.sku == sku) {
                    errors.add(
                        format!("items[{i}].sku"),
                        format!("{sku} appears twice; put the total on one line"),
                    );
                } else {
                    parsed.push(LineItem { sku, quantity });
                }
            }
            (sku, quantity) => {
                if let Err(m) = sku {
                    errors.add(format!("items[{i}].sku"), m);
                }
                if let Err(m) = quantity {
                    errors.add(format!("items[{i}].quantity"), m);
                }
            }
        }
    }
    parsed
}

fn quantity(raw: Raw<'_>) -> Result<Quantity, String> {
    let range = || {
        format!(
            "quantity must be a whole number from 1 to {}",
            Quantity::MAX
        )
    };
    match raw {
        Raw::Int(q) => Quantity::parse(q).map_err(|_| range()),
        Raw::Missing => Err("a quantity is required".into()),
        Raw::Text(_) => Err(format!(
            "quantity must be a number, not text (write 2, not \"2\"), from 1 to {}",
            Quantity::MAX
        )),
        Raw::Other(_) => Err(range()),
    }
}

fn name(raw: Raw<'_>) -> Result<String, String> {
    let untrimmed = raw.as_text().unwrap_or_default();
    human_text("a name", untrimmed)?;
    let text = Some(untrimmed.trim())
        .filter(|s| !s.is_empty())
        .ok_or("a name is required")?;
    if text.chars().count() > Customer::MAX_NAME_CHARS {
        return Err(format!(
            "a name has at most {} characters",
            Customer::MAX_NAME_CHARS
        ));
    }
    Ok(text.to_owned())
}

/// Deliberately modest: something@something.tld, no spaces. Real address
/// validation is sending a confirmation mail, which a demo shop does not do.
fn email(raw: Raw<'_>) -> Result<String, String> {
    let untrimmed = raw.as_text().unwrap_or_default();
    human_text("an email address", untrimmed)?;
    let text = Some(untrimmed.trim())
        .filter(|s| !s.is_empty())
        .ok_or("an email address is required")?;
    if text.len() > Customer::MAX_EMAIL_CHARS {
        return Err(format!(
            "an email address has at most {} characters",
            Customer::MAX_EMAIL_CHARS
        ));
    }
    let valid = match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(text.to_owned())
    } else {
        Err("this does not look like an email address (name@example.com)".into())
    }
}

/// A new order (`POST /api/orders`, the shop's form), from its loosely read
/// parts.
pub fn new_order(
    customer_name: Raw<'_>,
    customer_email: Raw<'_>,
    items: Option<&[RawLine<'_>]>,
) -> Result<NewOrder, Vec<FieldError>> {
    let mut errors = Errors::default();
    let name = name(customer_name).map_err(|m| errors.add("customer.name", m));
    let email = email(customer_email).map_err(|m| errors.add("customer.email", m));
    let items = lines(items, &mut errors);
    errors.finish(|| NewOrder {
        customer: Customer {
            name: name.unwrap_or_default(),
            email: email.unwrap_or_default(),
        },
        items,
    })
}

/// A new order from a JSON body (any JSON value: the shape is checked here).
pub fn new_order_json(body: &Value) -> Result<NewOrder, Vec<FieldError>> {
    let customer = body.get("customer");
    let items: Option<Vec<RawLine<'_>>> = body
        .get("items")
        .and_then(Value::as_array)
        .map(|lines| lines.iter().map(RawLine::json).collect());
    new_order(
        Raw::json(customer.and_then(|c| c.get("name"))),
        Raw::json(customer.and_then(|c| c.get("email"))),
        items.as_deref(),
    )
}

/// An `/update_inventory` request that keeps the rules: its order id and
/// lines, or every field that does not.
pub type InventoryRequest = Result<(OrderId, Vec<LineItem>), Vec<FieldError>>;

/// The lines of an `/update_inventory` request, with its order id.
fn inventory_request(order_id: Raw<'_>, items: Option<&[RawLine<'_>]>) -> InventoryRequest {
    let mut errors = Errors::default();
    let id = match order_id {
        Raw::Text(text) => OrderId::parse(text).map_err(|e| e.0),
        Raw::Missing => Err("an order id is required".into()),
        _ => Err("an order id is text, such as \"ord_0193…\"".into()),
    }
    .map_err(|m| errors.add("order_id", m));
    let items = lines(items, &mut errors);
    errors.finish(|| (id.expect("checked"), items))
}

/// An `/update_inventory` body in JSON (any JSON value: the shape is
/// checked here).
pub fn inventory_request_json(body: &Value) -> InventoryRequest {
    let items: Option<Vec<RawLine<'_>>> = body
        .get("items")
        .and_then(Value::as_array)
        .map(|lines| lines.iter().map(RawLine::json).collect());
    inventory_request(Raw::json(body.get("order_id")), items.as_deref())
}

/// An `/update_inventory` body in XML, read as loosely as the JSON one
/// (every element as text), so that both formats are held to the same
/// rules and report the same fields. `Err(Err(_))`: not readable as XML
/// of that shape at all.
pub fn inventory_request_xml(body: &[u8]) -> Result<InventoryRequest, crate::xml::XmlError> {
    #[derive(serde::Deserialize)]
    struct LooseRequest {
        order_id: Option<String>,
        #[serde(default)]
        items: Vec<LooseLine>,
    }
    #[derive(serde::Deserialize)]
    struct LooseLine {
        sku: Option<String>,
        quantity: Option<String>,
    }
    let loose: LooseRequest = crate::xml::from_slice(body)?;
    let items: Vec<RawLine<'_>> = loose
        .items
        .iter()
        .map(|l| RawLine {
            sku: l.sku.as_deref().map_or(Raw::Missing, Raw::Text),
            quantity: Raw::number_text(l.quantity.as_deref()),
        })
        .collect();
    let order_id = loose.order_id.as_deref().map_or(Raw::Missing, Raw::Text);
    Ok(inventory_request(order_id, Some(&items)))
}

/// The rules an order that arrived fully typed (a webhook event, a feed
/// page) must still keep: line count, one line per SKU, a plain name and
/// address.
pub fn check_order(order: &Order) -> Result<(), Vec<FieldError>> {
    let raw: Vec<RawLine<'_>> = order
        .items
        .iter()
        .map(|l| RawLine {
            sku: Raw::Text(l.sku.as_str()),
            quantity: Raw::Int(l.quantity.as_i64()),
        })
        .collect();
    new_order(
        Raw::Text(&order.customer.name),
        Raw::Text(&order.customer.email),
        Some(&raw),
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::human_text::is_plain;

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    fn order(items: Value) -> Result<NewOrder, Vec<FieldError>> {
        new_order_json(&json!({"customer": {"name": "A", "email": "a@b.co"}, "items": items}))
    }

    #[test]
    fn a_good_order_parses_and_is_normalised() {
        let o = new_order_json(&json!({
            "customer": {"name": " Ada ", "email": "ada@example.com"},
            "items": [{"sku": "tea-sencha", "quantity": 2}, {"sku": "MUG-BLUE", "quantity": 1}]
        }))
        .unwrap();
        assert_eq!(o.customer.name, "Ada");
        assert_eq!(o.items[0].sku.as_str(), "TEA-SENCHA");
        assert_eq!(o.items[1].quantity.get(), 1);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errs = new_order_json(&json!({
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
    fn a_quantity_is_a_number_from_1_to_99() {
        for q in [
            json!(0),
            json!(-5),
            json!(100),
            json!(1.5),
            json!(u64::MAX),
            json!(true),
            json!("x"),
            json!("2"),
            json!(null),
        ] {
            let errs = order(json!([{"sku": "TEA-SENCHA", "quantity": q}])).unwrap_err();
            assert_eq!(fields(errs), vec!["items[0].quantity"], "{q}");
        }
        let text = order(json!([{"sku": "TEA-SENCHA", "quantity": "2"}])).unwrap_err();
        assert!(text[0].message.contains("not text"), "{text:?}");
        // `2.0` is the number 2 (JSON Schema's `integer` says so too).
        let two = order(json!([{"sku": "TEA-SENCHA", "quantity": 2.0}])).unwrap();
        assert_eq!(two.items[0].quantity.get(), 2);
    }

    #[test]
    fn xml_and_form_text_spell_numbers() {
        assert_eq!(Raw::text(Some(" 2 ")), Raw::Int(2));
        assert_eq!(Raw::text(Some("two")), Raw::Text("two"));
        assert_eq!(Raw::text(None), Raw::Missing);
        assert_eq!(Raw::number_text(Some(" 3")), Raw::Int(3));
        assert!(matches!(Raw::number_text(Some("abc")), Raw::Other(_)));
        let form = [RawLine {
            sku: Raw::Text("TEA-SENCHA"),
            quantity: Raw::number_text(Some("abc")),
        }];
        let errs = inventory_request(Raw::Text("ord_1"), Some(&form)).unwrap_err();
        assert_eq!(
            errs[0].message,
            "quantity must be a whole number from 1 to 99"
        );
        let lines = [RawLine {
            sku: Raw::text(Some("TEA-SENCHA")),
            quantity: Raw::text(Some("3")),
        }];
        let (_, items) = inventory_request(Raw::Text("ord_1"), Some(&lines)).unwrap();
        assert_eq!(items[0].quantity.get(), 3);
    }

    #[test]
    fn line_count_is_bounded_and_a_sku_appears_once() {
        assert_eq!(fields(order(json!([])).unwrap_err()), vec!["items"]);
        assert_eq!(
            fields(
                new_order_json(&json!({"customer": {"name": "A", "email": "a@b.co"}})).unwrap_err()
            ),
            vec!["items"]
        );
        assert_eq!(
            fields(order(json!("not a list")).unwrap_err()),
            vec!["items"]
        );
        let many: Vec<_> = (0..21)
            .map(|i| json!({"sku": format!("SKU-{i}"), "quantity": 1}))
            .collect();
        assert_eq!(fields(order(json!(many)).unwrap_err()), vec!["items"]);
        let twice = order(json!([
            {"sku": "TEA-SENCHA", "quantity": 1},
            {"sku": "tea-sencha", "quantity": 2}
        ]))
        .unwrap_err();
        assert_eq!(fields(twice), vec!["items[1].sku"]);
    }

    #[test]
    fn names_and_addresses_are_plain_text() {
        for bad in [
            "Ada\u{202E}gnp.exe",
            "Ada\u{2066}x",
            "Ada\u{0007}",
            "Ada\nLovelace",
        ] {
            let errs = new_order_json(&json!({
                "customer": {"name": bad, "email": "a@b.co"},
                "items": [{"sku": "TEA-SENCHA", "quantity": 1}]
            }))
            .unwrap_err();
            assert_eq!(fields(errs), vec!["customer.name"], "{bad:?}");
        }
        // Invisible, and let through while the rule refused only control and
        // text-direction characters: a zero-width space, the line and
        // paragraph separators (at the end too, where trimming would have
        // hidden them), a byte order mark, a word joiner, a tag.
        for (bad, code) in [
            ("Ada\u{200B}Lovelace", "U+200B"),
            ("Ada\u{2028}Lovelace", "U+2028"),
            ("Ada\u{2029}", "U+2029"),
            ("\u{FEFF}Ada", "U+FEFF"),
            ("A\u{2060}da", "U+2060"),
            ("Ada\u{E0041}", "U+E0041"),
            ("Ada\u{E000}", "U+E000"),
            ("Ada\u{FDD0}", "U+FDD0"),
            ("\u{3164}", "U+3164"),
            ("Ada\u{0085}", "U+0085"),
        ] {
            let errs = new_order_json(&json!({
                "customer": {"name": bad, "email": "a@b.co"},
                "items": [{"sku": "TEA-SENCHA", "quantity": 1}]
            }))
            .unwrap_err();
            assert_eq!(errs.len(), 1, "{bad:?}");
            assert_eq!(errs[0].field, "customer.name", "{bad:?}");
            assert!(
                errs[0]
                    .message
                    .starts_with(&format!("a name cannot contain {code}, ")),
                "{bad:?}: {}",
                errs[0].message
            );
        }
        for bad in [
            "a\u{200B}@b.co",
            "a@b.co\u{2029}",
            "\u{FEFF}a@b.co",
            "a@\u{200E}b.co",
        ] {
            let errs = new_order_json(&json!({
                "customer": {"name": "Ada", "email": bad},
                "items": [{"sku": "TEA-SENCHA", "quantity": 1}]
            }))
            .unwrap_err();
            assert_eq!(fields(errs.clone()), vec!["customer.email"], "{bad:?}");
            assert!(
                errs[0]
                    .message
                    .starts_with("an email address cannot contain U+"),
                "{bad:?}"
            );
        }
        let errs = new_order_json(&json!({
            "customer": {"name": "Ada", "email": "a\u{202E}@b.co"},
            "items": [{"sku": "TEA-SENCHA", "quantity": 1}]
        }))
        .unwrap_err();
        assert_eq!(fields(errs), vec!["customer.email"]);
        assert!(is_plain('é') && is_plain('名') && !is_plain('\u{200F}'));
    }

    #[test]
    fn human_text_keeps_every_script_combining_marks_and_emoji() {
        for good in [
            "Ada Lovelace",
            "Zoë Ørsted-Łukasiewicz",
            "Nguyễn Thị Minh Khai",
            "Nguye\u{0302}\u{0303}n", // the same, with combining marks
            "محمد بن موسى",           // Arabic, right to left by itself
            "עדה לאבלייס",
            "Алёна Пушкина",
            "김민준",
            "山田 太郎",
            "श्रीनिवास रामानुजन्", // Devanagari: conjuncts need no joiner
            "Ada 🦀",
            "👩🏽 🇯🇵 ❤\u{FE0F}",     // skin tone, flag, variation selector
            "Ada\u{00A0}Lovelace", // a no-break space is a space
            "Ada\u{3000}Lovelace", // so is the ideographic one
        ] {
            assert_eq!(human_text("a name", good), Ok(()), "{good:?}");
            let order = new_order_json(&json!({
                "customer": {"name": good, "email": "a@b.co"},
                "items": [{"sku": "TEA-SENCHA", "quantity": 1}]
            }));
            assert!(order.is_ok(), "{good:?}: {order:?}");
        }
        // The price, documented in the module comment: a ZWJ sequence and
        // a subdivision flag are refused.
        let coder = "👩\u{200D}💻";
        assert!(human_text("a name", coder).unwrap_err().contains("U+200D"));
        let england = "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        assert!(
            human_text("a name", england)
                .unwrap_err()
                .contains("U+E0067")
        );
    }

    #[test]
    fn a_missing_customer_is_two_field_errors() {
        let errs =
            new_order_json(&json!({"items": [{"sku": "TEA-SENCHA", "quantity": 1}]})).unwrap_err();
        assert_eq!(fields(errs), vec!["customer.name", "customer.email"]);
        let errs = new_order_json(
            &json!({"customer": "Ada", "items": [{"sku": "TEA-SENCHA", "quantity": 1}]}),
        )
        .unwrap_err();
        assert_eq!(fields(errs), vec!["customer.name", "customer.email"]);
    }

    #[test]
    fn an_inventory_request_needs_an_order_id() {
        let lines = [RawLine {
            sku: Raw::Text("TEA-SENCHA"),
            quantity: Raw::Int(1),
        }];
        assert_eq!(
            fields(inventory_request(Raw::Missing, Some(&lines)).unwrap_err()),
            vec!["order_id"]
        );
        assert_eq!(
            fields(inventory_request(Raw::Int(7), None).unwrap_err()),
            vec!["order_id", "items"]
        );
    }

    #[test]
    fn a_typed_order_keeps_the_rules_types_cannot() {
        let mut o: Order = serde_json::from_value(json!({
            "id": "ord_1", "status": "pending", "mode": "webhook",
            "customer": {"name": "Ada", "email": "ada@example.com"},
            "items": [
                {"sku": "TEA-SENCHA", "name": "Sencha", "quantity": 1, "unit_price_cents": 100, "line_total_cents": 100},
                {"sku": "TEA-SENCHA", "name": "Sencha", "quantity": 2, "unit_price_cents": 100, "line_total_cents": 200}
            ],
            "total_cents": 300, "created_at": "2026-01-01T00:00:00.000Z"
        }))
        .unwrap();
        assert_eq!(fields(check_order(&o).unwrap_err()), vec!["items[1].sku"]);
        o.items.truncate(1);
        assert!(check_order(&o).is_ok());
        o.customer.name = "\u{202E}".into();
        assert_eq!(fields(check_order(&o).unwrap_err()), vec!["customer.name"]);
    }

    /// Arbitrary JSON, a few levels deep.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..25).prop_map(Value::Array),
                prop::collection::hash_map(
                    prop_oneof![
                        Just("customer".to_owned()),
                        Just("items".to_owned()),
                        Just("name".to_owned()),
                        Just("email".to_owned()),
                        Just("sku".to_owned()),
                        Just("quantity".to_owned()),
                        ".{0,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn an_inventory_request_is_held_to_the_same_rules_in_json_and_xml() {
        let json = inventory_request_json(&json!({"order_id": "ord_1", "items": [
            {"sku": "TEA-SENCHA", "quantity": 1}, {"sku": "tea-sencha", "quantity": 2},
            {"sku": "MUG-WHITE", "quantity": 0}
        ]}));
        let xml = inventory_request_xml(
            b"<update_inventory><order_id>ord_1</order_id>\
              <items><sku>TEA-SENCHA</sku><quantity>1</quantity></items>\
              <items><sku>tea-sencha</sku><quantity>2</quantity></items>\
              <items><sku>MUG-WHITE</sku><quantity>0</quantity></items></update_inventory>",
        )
        .unwrap();
        let expected = vec!["items[1].sku".to_owned(), "items[2].quantity".to_owned()];
        assert_eq!(fields(json.unwrap_err()), expected);
        assert_eq!(fields(xml.unwrap_err()), expected);
        // Text is how XML spells a number; in JSON it is text.
        let xml = inventory_request_xml(
            b"<update_inventory><order_id>ord_2</order_id><items><sku>TEA-SENCHA</sku><quantity>2</quantity></items></update_inventory>",
        )
        .unwrap()
        .unwrap();
        assert_eq!(xml.1[0].quantity.as_i64(), 2);
        let json = inventory_request_json(
            &json!({"order_id": "ord_2", "items": [{"sku": "TEA-SENCHA", "quantity": "2"}]}),
        );
        assert_eq!(
            fields(json.unwrap_err()),
            vec!["items[0].quantity".to_owned()]
        );
        assert_eq!(
            fields(inventory_request_json(&json!({"items": []})).unwrap_err()),
            vec!["order_id".to_owned(), "items".to_owned()]
        );
    }

    #[test]
    fn an_element_repeated_where_one_is_expected_is_refused_in_xml_too() {
        // JSON's repeated member (`crate::json`) has an XML twin: serde's
        // derived structs refuse a second `<quantity>` of one line.
        for xml in [
            "<u><order_id>ord_1</order_id><items><sku>TEA-SENCHA</sku><quantity>1</quantity><quantity>3</quantity></items></u>",
            "<u><order_id>ord_1</order_id><order_id>ord_2</order_id><items><sku>TEA-SENCHA</sku><quantity>1</quantity></items></u>",
        ] {
            let e = inventory_request_xml(xml.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("duplicate field"), "{e}");
        }
    }

    proptest! {
        /// Whatever arrives: no panic, and either a valid order or at least
        /// one field error, each naming a field and saying what is allowed.
        #[test]
        fn any_json_is_an_order_or_field_errors(body in any_json()) {
            match new_order_json(&body) {
                Ok(order) => {
                    prop_assert!(!order.items.is_empty() && order.items.len() <= MAX_LINES);
                    prop_assert!(order.customer.name.chars().all(is_plain));
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for e in errors {
                        prop_assert!(!e.field.is_empty() && !e.message.is_empty());
                    }
                }
            }
        }

        #[test]
        fn any_text_is_a_quantity_or_a_clear_no(text in ".{0,30}") {
            let lines = [RawLine { sku: Raw::Text("TEA-SENCHA"), quantity: Raw::text(Some(&text)) }];
            match inventory_request(Raw::Text("ord_1"), Some(&lines)) {
                Ok((_, items)) => prop_assert!((1..=99).contains(&items[0].quantity.get())),
                Err(errors) => prop_assert_eq!(fields(errors), vec!["items[0].quantity".to_owned()]),
            }
        }
    }
}
