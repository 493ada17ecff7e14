//! The store's web pages, driven over HTTP like a browser without
//! JavaScript would: every page renders with its key content, every form
//! posts and redirects (or re-renders with its errors), user text comes
//! back escaped, and the fragments the live script fetches are served.
//! The real store on port 0 with a fresh database, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL. No inventory runs here: the browser
//! tests in `crates/pushpull/tests/browser` cover the two together.

mod compare;
mod flow;
mod helpers;
mod order_page;
mod pages;
mod reference;
mod settings;
mod shop;
