//! The shop: the store front with its order form (the list of orders and
//! each order's page are [`super::orders`]).
//!
//! The order form goes through the same two functions as `POST /api/orders`
//! — `contract::validation::new_order` for every check that needs no
//! database (the rules of every door, the inventory's included) and
//! [`crate::checkout::Checkout::place_order`] for the rest — so a form and an API client can
//! never be held to different rules. What the form adds is presentation:
//! each field error is put back next to its input, with what was typed.
//!
//! The form carries a hidden `Idempotency-Key` minted when it is drawn, so
//! a double click or a browser retry places the order once: the second
//! submission finds the first order and is sent to it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use platform::ApiError;
use platform::ui::{Layout, keep_units_together, money, see_other};

use super::{Data, ModeInfo, PageError, fragment, layout, mode_info, page};
use crate::error::StoreError;
use crate::idempotency::IdempotencyKey;
use crate::{catalog, integration};
use contract::validation::{self, Raw, RawLine};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/store/src/ui/shop.rs",
    "crates/store/src/checkout.rs",
    "crates/store/src/catalog.rs",
    "crates/store/src/idempotency.rs",
    "crates/store/src/integration/mod.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(front))
        .route("/orders", web::post().to(place))
        .route("/fragments/mode", web::get().to(mode_fragment));
}

// ---------------------------------------------------------------------------
// The current mode, shown plainly on the store front.
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "store/fragments/mode.html")]
pub struct ModeBanner {
    pub info: ModeInfo,
}

impl askama::filters::HtmlSafe for ModeBanner {}

impl ModeBanner {
    pub async fn load(app: &Data) -> Result<ModeBanner, sqlx::Error> {
        Ok(ModeBanner {
            info: mode_info(integration::read_mode(&app.ctx.db).await?),
        })
    }
}

async fn mode_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&ModeBanner::load(&app).await?)
}

// ---------------------------------------------------------------------------
// The store front and the order form.
// ---------------------------------------------------------------------------

/// A product with what was typed in its quantity box.
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub quantity: String,
    pub error: Option<String>,
}

/// The order form's state: empty, or as submitted with its errors.
#[derive(Default)]
pub struct OrderForm {
    pub name: String,
    pub email: String,
    pub name_error: Option<String>,
    pub email_error: Option<String>,
    pub items_error: Option<String>,
    /// A problem that belongs to no single field.
    pub form_error: Option<String>,
    pub idempotency_key: String,
}

impl OrderForm {
    pub fn has_errors(&self) -> bool {
        self.name_error.is_some()
            || self.email_error.is_some()
            || self.items_error.is_some()
            || self.form_error.is_some()
    }
}

fn new_form_key() -> String {
    format!("form-{}", uuid::Uuid::new_v4().simple())
}

#[derive(Template)]
#[template(path = "store/front.html")]
pub struct FrontPage {
    pub layout: Layout,
    pub mode: ModeBanner,
    pub products: Vec<ProductRow>,
    pub form: OrderForm,
}

async fn front_page(
    app: &Data,
    req: &HttpRequest,
    form: OrderForm,
    typed: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> Result<FrontPage, PageError> {
    let products = catalog::list(&app.ctx.db)
        .await?
        .into_iter()
        .map(|p| ProductRow {
            quantity: typed.get(&p.sku).cloned().unwrap_or_default(),
            error: errors.get(&p.sku).cloned(),
            price: money(p.price_cents),
            sku: p.sku,
            name: keep_units_together(&p.name),
            description: p.description,
        })
        .collect();
    Ok(FrontPage {
        layout: layout(app, req, "Shop").with_sources(SOURCES),
        mode: ModeBanner::load(app).await?,
        products,
        form,
    })
}

async fn front(app: Data, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let form = OrderForm {
        idempotency_key: new_form_key(),
        ..OrderForm::default()
    };
    let page_data = front_page(&app, &req, form, &HashMap::new(), &HashMap::new()).await?;
    page(&app, StatusCode::OK, &page_data)
}

/// The order form as posted: `name`, `email`, `qty-<SKU>` per product,
/// `idempotency_key`, and optionally `next` (where to go afterwards).
type Fields = web::Form<Vec<(String, String)>>;

/// Pages an order form may return to instead of the order page (a fixed
/// list: a redirect target taken from a form must never be free text).
const NEXT_PAGES: &[&str] = &["/flow"];

async fn place(app: Data, req: HttpRequest, fields: Fields) -> Result<HttpResponse, PageError> {
    let fields: HashMap<String, String> = fields.into_inner().into_iter().collect();
    let field = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };

    // One line per product with a quantity other than empty or zero, in
    // catalog order; remember which line is which product.
    let products = catalog::list(&app.ctx.db).await?;
    let mut typed = HashMap::new();
    let mut line_skus = Vec::new();
    for p in &products {
        let quantity = field(&format!("qty-{}", p.sku));
        if quantity.is_empty() || quantity == "0" {
            continue;
        }
        typed.insert(p.sku.clone(), quantity);
        line_skus.push(p.sku.clone());
    }
    // A form carries only text: its quantities are read as the numbers
    // they spell (`Raw::number_text`), then held to the API's rules.
    let lines: Vec<RawLine<'_>> = line_skus
        .iter()
        .map(|sku| RawLine {
            sku: Raw::Text(sku),
            quantity: Raw::number_text(typed.get(sku).map(String::as_str)),
        })
        .collect();
    // The customer's name and email as typed, untrimmed: the rule for
    // human text looks at the ends too (a trailing U+2029 is refused, not
    // trimmed away here and accepted), as it does at the API.
    let raw = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let (name, email) = (raw("name"), raw("email"));
    let key = IdempotencyKey::parse(&field("idempotency_key")).ok();

    let mut form = OrderForm {
        name: field("name"),
        email: field("email"),
        idempotency_key: key
            .as_ref()
            .map_or_else(new_form_key, |k| k.as_str().to_owned()),
        ..OrderForm::default()
    };
    let outcome = match validation::new_order(Raw::Text(&name), Raw::Text(&email), Some(&lines)) {
        Ok(valid) => app.checkout.place_order(valid, key.as_ref()).await,
        Err(field_errors) => Err(StoreError::validation(field_errors)),
    };
    let errors = match outcome {
        Ok(placed) => {
            let next = field("next");
            let target = if NEXT_PAGES.contains(&next.as_str()) {
                next
            } else {
                format!("/orders/{}", placed.order.id)
            };
            return Ok(see_other(&target));
        }
        Err(e) => form.explain(e, &line_skus)?,
    };
    let page_data = front_page(&app, &req, form, &typed, &errors).await?;
    page(&app, StatusCode::UNPROCESSABLE_ENTITY, &page_data)
}

impl OrderForm {
    /// Puts why an order was not placed beside the fields it concerns;
    /// returns the errors of each product's line, by SKU (`line_skus`: the
    /// form's lines in order). An error that is not the form's to show is
    /// passed on.
    fn explain(
        &mut self,
        error: StoreError,
        line_skus: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut by_sku = HashMap::new();
        match error {
            StoreError::Api(ApiError::Validation(field_errors)) => {
                for e in field_errors {
                    match e.field.as_str() {
                        "customer.name" => self.name_error = Some(e.message),
                        "customer.email" => self.email_error = Some(e.message),
                        "items" => {
                            self.items_error = Some(format!(
                                "{}: set a quantity on at least one product.",
                                e.message
                            ))
                        }
                        other => {
                            // `items[3].quantity` → the fourth line's product.
                            let index = other
                                .strip_prefix("items[")
                                .and_then(|rest| rest.split(']').next())
                                .and_then(|n| n.parse::<usize>().ok());
                            match index.and_then(|i| line_skus.get(i)) {
                                Some(sku) => {
                                    by_sku.insert(sku.clone(), e.message);
                                }
                                None => self.form_error = Some(e.message),
                            }
                        }
                    }
                }
            }
            StoreError::Api(ApiError::IdempotencyKeyReused) => {
                self.form_error = Some(
                    "This form already placed a different order. Check the form and place the order again.".into(),
                );
                self.idempotency_key = new_form_key();
            }
            StoreError::IdempotencyKeyInFlight => {
                self.form_error =
                    Some("This order is still being confirmed with the inventory; wait a moment and submit again.".into());
            }
            other => return Err(other),
        }
        Ok(by_sku)
    }
}
