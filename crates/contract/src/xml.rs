//! XML, the seed's second data format, through `quick-xml`'s serde support.
//!
//! The same Rust types that serialise to JSON serialise to XML: a webhook
//! endpoint can choose `format: "xml"` and `/update_inventory` accepts and
//! answers `application/xml`. Going through serde (rather than formatting
//! strings) means escaping is always right — a customer called
//! `<Tom & Jerry>` cannot break the document — and that a field added to a
//! type shows up in both formats at once.
//!
//! The mapping is quick-xml's default one: a struct is an element named by
//! its field, a list is the element repeated (`<items>…</items><items>…
//! </items>`), an absent optional field is left out. The root element is
//! named by the caller (`order`, `update_inventory`, `event`, ...).
//!
//! **What is refused rather than skipped.** quick-xml's deserializer
//! passes over a document type declaration (`<!DOCTYPE …>`) and over
//! processing instructions (`<?xml-stylesheet …?>`) without a word. It
//! fetches nothing and expands no entity it was not given, so nothing
//! happened — but a document that declares a DTD is asking its reader to
//! load and trust it (external entities, "billion laughs"), and the next
//! tool that reads the same bytes from a message log may oblige; a
//! processing instruction is likewise an order for some application
//! (fetch this stylesheet). Neither belongs in the documents the services
//! exchange, whose shape is fixed here. So [`from_str`] refuses both
//! ([`XmlError::Refused`], a `400` at every door that takes XML) instead
//! of quietly reading a document different from the one that was sent.
//! The XML declaration `<?xml version="1.0"?>` is not a processing
//! instruction and stays welcome.

use quick_xml::events::Event;
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

pub const CONTENT_TYPE: &str = "application/xml";

#[derive(Debug, Error)]
pub enum XmlError {
    #[error("could not write XML: {0}")]
    Write(String),
    #[error("malformed XML: {0}")]
    Read(String),
    /// Well-formed, but carrying markup the services do not accept (see
    /// the module comment).
    #[error("refused XML: {0}")]
    Refused(String),
}

/// Serialises `value` as an XML document with the given root element.
pub fn to_string<T: Serialize>(root: &str, value: &T) -> Result<String, XmlError> {
    let body = quick_xml::se::to_string_with_root(root, value)
        .map_err(|e| XmlError::Write(e.to_string()))?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"
    ))
}

/// Parses an XML document (whatever its root element is called), refusing
/// a document type declaration or a processing instruction anywhere in it.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, XmlError> {
    refuse_declarations(text)?;
    quick_xml::de::from_str(text).map_err(|e| XmlError::Read(e.to_string()))
}

/// The markup the deserializer would skip in silence, refused: a pass of
/// quick-xml's reader over the document, before it is deserialized. It
/// stops at the first malformed spot and leaves saying what is wrong there
/// to the deserializer, whose messages the doors already show.
fn refuse_declarations(text: &str) -> Result<(), XmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::DocType(_)) => {
                return Err(XmlError::Refused(
                    "a document type declaration (<!DOCTYPE …>) is not accepted: \
                     the documents exchanged here have a fixed shape and no DTD"
                        .into(),
                ));
            }
            Ok(Event::PI(instruction)) => {
                let target = String::from_utf8_lossy(instruction.target()).into_owned();
                return Err(XmlError::Refused(format!(
                    "a processing instruction (<?{target} …?>) is not accepted: \
                     only the XML declaration <?xml …?> may stand outside the elements"
                )));
            }
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// Parses XML bytes, refusing anything that is not UTF-8.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, XmlError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| XmlError::Read("the document is not UTF-8".into()))?;
    from_str(text)
}

/// Whether a `Content-Type` (or `Accept`) header value names XML.
pub fn is_xml_media_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/xml" || essence == "text/xml" || essence.ends_with("+xml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Quantity, Sku, Timestamp};
    use crate::events::WebhookEvent;
    use crate::ids::OrderId;
    use crate::inventory::{StockLevel, UpdateInventoryRequest, UpdateInventoryResponse};
    use crate::order::{Customer, LineItem, Order, OrderLine};
    use crate::vocabulary::{EventType, IntegrationMode, OrderStatus};

    fn order() -> Order {
        Order {
            id: OrderId::parse("ord_0193a1b2c3").unwrap(),
            status: OrderStatus::Backordered,
            mode: IntegrationMode::Webhook,
            customer: Customer {
                name: "Tom <&> \"Jerry\" O'Brien".into(),
                email: "tom@example.com".into(),
            },
            items: vec![
                OrderLine {
                    sku: Sku::parse("TEA-SENCHA").unwrap(),
                    name: "Sencha & friends".into(),
                    quantity: Quantity::parse(2).unwrap(),
                    unit_price_cents: 1250,
                    line_total_cents: 2500,
                },
                OrderLine {
                    sku: Sku::parse("MUG-BLUE").unwrap(),
                    name: "Blue mug".into(),
                    quantity: Quantity::parse(1).unwrap(),
                    unit_price_cents: 900,
                    line_total_cents: 900,
                },
            ],
            total_cents: 3400,
            created_at: Timestamp(1_700_000_000_123),
            status_reason: Some("only 1 left of MUG-BLUE".into()),
        }
    }

    #[test]
    fn an_order_round_trips_identically_through_json_and_xml() {
        let original = order();
        let xml = to_string("order", &original).unwrap();
        let from_xml: Order = from_str(&xml).unwrap();
        assert_eq!(from_xml, original, "{xml}");
        let json = serde_json::to_string(&from_xml).unwrap();
        let from_json: Order = serde_json::from_str(&json).unwrap();
        assert_eq!(from_json, original);
        // Escaped, not injected.
        assert!(xml.contains("Tom &lt;&amp;&gt;"), "{xml}");
    }

    #[test]
    fn an_order_without_optional_fields_round_trips() {
        let mut o = order();
        o.status_reason = None;
        o.status = OrderStatus::Confirmed;
        let xml = to_string("order", &o).unwrap();
        assert!(!xml.contains("status_reason"), "{xml}");
        assert_eq!(from_str::<Order>(&xml).unwrap(), o);
    }

    #[test]
    fn an_event_round_trips() {
        let event = WebhookEvent {
            event_type: EventType::OrderCreated,
            timestamp: Timestamp(1_700_000_000_999),
            data: order(),
        };
        let xml = to_string("event", &event).unwrap();
        assert!(xml.contains("<type>order.created</type>"), "{xml}");
        assert_eq!(from_str::<WebhookEvent<Order>>(&xml).unwrap(), event);
    }

    #[test]
    fn update_inventory_messages_round_trip() {
        let req = UpdateInventoryRequest {
            order_id: OrderId::parse("ord_1").unwrap(),
            items: vec![
                LineItem {
                    sku: Sku::parse("TEA-SENCHA").unwrap(),
                    quantity: Quantity::parse(3).unwrap(),
                },
                LineItem {
                    sku: Sku::parse("MUG-BLUE").unwrap(),
                    quantity: Quantity::parse(1).unwrap(),
                },
            ],
        };
        let xml = to_string("update_inventory", &req).unwrap();
        assert_eq!(from_str::<UpdateInventoryRequest>(&xml).unwrap(), req);
        let resp = UpdateInventoryResponse {
            order_id: req.order_id.clone(),
            applied: true,
            stock: vec![StockLevel {
                sku: Sku::parse("TEA-SENCHA").unwrap(),
                on_hand: 7,
            }],
        };
        let xml = to_string("update_inventory_result", &resp).unwrap();
        assert_eq!(from_str::<UpdateInventoryResponse>(&xml).unwrap(), resp);
    }

    #[test]
    fn a_hand_written_request_parses() {
        let xml = r#"<?xml version="1.0"?>
            <update_inventory>
              <order_id>ord_42</order_id>
              <items><sku>tea-sencha</sku><quantity>2</quantity></items>
            </update_inventory>"#;
        let req: UpdateInventoryRequest = from_str(xml).unwrap();
        assert_eq!(req.items[0].sku.as_str(), "TEA-SENCHA");
        assert_eq!(req.items[0].quantity.get(), 2);
    }

    #[test]
    fn malformed_and_invalid_xml_is_an_error() {
        assert!(from_str::<UpdateInventoryRequest>("<update_inventory><order_id>").is_err());
        assert!(from_str::<UpdateInventoryRequest>("not xml at all").is_err());
        let zero = "<u><order_id>ord_1</order_id><items><sku>TEA-SENCHA</sku><quantity>0</quantity></items></u>";
        assert!(from_str::<UpdateInventoryRequest>(zero).is_err());
        assert!(from_slice::<UpdateInventoryRequest>(b"<u>\xff</u>").is_err());
    }

    #[test]
    fn a_document_type_declaration_is_refused_not_skipped() {
        let request = "<update_inventory><order_id>ord_1</order_id>\
                       <items><sku>TEA-SENCHA</sku><quantity>1</quantity></items></update_inventory>";
        assert!(from_str::<UpdateInventoryRequest>(request).is_ok());
        for doctype in [
            // The classic external entity, used and unused.
            r#"<!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#,
            r#"<!DOCTYPE u SYSTEM "http://127.0.0.1:9/evil.dtd">"#,
            // A billion laughs, cut short.
            r#"<!DOCTYPE u [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>"#,
            "<!DOCTYPE update_inventory>",
        ] {
            for document in [
                format!("{doctype}{request}"),
                format!("<?xml version=\"1.0\"?>\n{doctype}\n{request}"),
            ] {
                match from_str::<UpdateInventoryRequest>(&document) {
                    Err(e @ XmlError::Refused(_)) => {
                        assert!(e.to_string().contains("<!DOCTYPE"), "{e}")
                    }
                    other => panic!("{document}: {other:?}"),
                }
            }
        }
        // Inside the root element too (where no DOCTYPE may be at all).
        let inside = request.replacen("<order_id>", "<!DOCTYPE x><order_id>", 1);
        assert!(matches!(
            from_str::<UpdateInventoryRequest>(&inside),
            Err(XmlError::Refused(_))
        ));
        // Through the bytes reader as well.
        let bytes = format!("<!DOCTYPE u>{request}");
        assert!(matches!(
            from_slice::<UpdateInventoryRequest>(bytes.as_bytes()),
            Err(XmlError::Refused(_))
        ));
    }

    #[test]
    fn a_processing_instruction_is_refused_the_declaration_is_not() {
        let request = "<update_inventory><order_id>ord_1</order_id>\
                       <items><sku>TEA-SENCHA</sku><quantity>1</quantity></items></update_inventory>";
        let declared = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{request}");
        assert!(from_str::<UpdateInventoryRequest>(&declared).is_ok());
        for instruction in [
            r#"<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>"#,
            "<?php echo 1; ?>",
        ] {
            for document in [
                format!("{instruction}{request}"),
                request.replacen("<order_id>", &format!("{instruction}<order_id>"), 1),
            ] {
                match from_str::<UpdateInventoryRequest>(&document) {
                    Err(e @ XmlError::Refused(_)) => {
                        assert!(e.to_string().contains("processing instruction"), "{e}")
                    }
                    other => panic!("{document}: {other:?}"),
                }
            }
        }
        // Comments change nothing a reader acts on: still read.
        let commented = request.replacen("<order_id>", "<!-- a note --><order_id>", 1);
        assert!(from_str::<UpdateInventoryRequest>(&commented).is_ok());
        // Malformed before any of it: the deserializer says what is wrong.
        assert!(matches!(
            from_str::<UpdateInventoryRequest>("<u><order_id></u><!DOCTYPE x>"),
            Err(XmlError::Read(_))
        ));
    }

    #[test]
    fn media_types() {
        assert!(is_xml_media_type("application/xml"));
        assert!(is_xml_media_type("text/xml; charset=utf-8"));
        assert!(is_xml_media_type("application/atom+xml"));
        assert!(!is_xml_media_type("application/json"));
    }

    mod arbitrary_documents {
        use proptest::prelude::*;

        use super::*;

        /// Text that looks like the documents the services exchange, cut
        /// and mangled: elements of the right names around anything.
        fn xmlish() -> impl Strategy<Value = String> {
            let element = prop_oneof![
                Just("order_id"),
                Just("items"),
                Just("sku"),
                Just("quantity"),
                Just("type"),
                Just("data"),
                Just("update_inventory"),
                Just("x"),
            ];
            prop::collection::vec((element, ".{0,12}", any::<bool>()), 0..12).prop_map(|parts| {
                parts
                    .into_iter()
                    .map(|(name, text, close)| {
                        if close {
                            format!("<{name}>{text}</{name}>")
                        } else {
                            format!("<{name}>{text}")
                        }
                    })
                    .collect()
            })
        }

        proptest! {
            /// Any text, or anything shaped like the documents: parsed or
            /// refused with a message, never a panic.
            #[test]
            fn any_document_is_read_or_refused(text in prop_oneof![".{0,200}", xmlish()]) {
                for result in [
                    from_str::<UpdateInventoryRequest>(&text).map(|_| ()),
                    from_str::<WebhookEvent<Order>>(&text).map(|_| ()),
                    from_str::<crate::events::EventTypeOnly>(&text).map(|_| ()),
                ] {
                    if let Err(e) = result {
                        prop_assert!(!e.to_string().is_empty());
                    }
                }
            }

            #[test]
            fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                if let Err(e) = from_slice::<UpdateInventoryRequest>(&bytes) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}
