//! The inventory's web pages over HTTP, as a browser without JavaScript
//! uses them: every page renders, every form posts and redirects or comes
//! back with its errors, user text is escaped, and the fragments the store's
//! pages embed are readable cross-origin. The real inventory on port 0 with
//! a fresh database, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

mod forms;
mod helpers;
mod pages;
mod reference;
