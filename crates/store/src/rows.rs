//! Reading rows into typed structs.
//!
//! Queries read their rows with `#[derive(sqlx::FromRow)]` structs whose
//! fields already have the types the code uses — `OrderId`, `OrderStatus`,
//! `Timestamp` — converted from the stored TEXT or BIGINT with
//! `#[sqlx(try_from = "String")]` (each of those types implements
//! `TryFrom<String>` or `From<i64>`). A stored value that does not convert
//! is a decode error naming its column, never a silent default.
//!
//! A *nullable* column needs one more step, because `Option<OrderId>` is not
//! something sqlx can be told to build from `Option<String>` directly: the
//! two adapters here are read from the column and turned into the `Option`
//! (`#[sqlx(try_from = "NullableText")] order_id: Option<OrderId>`).

use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Type};

/// A nullable TEXT column, for `Option<T>` where `T: TryFrom<String>`.
pub struct NullableText(Option<String>);

/// A nullable BIGINT column, for `Option<T>` where `T: TryFrom<i64>`
/// (an optional `Timestamp`).
pub struct NullableInt(Option<i64>);

macro_rules! nullable {
    ($name:ident, $inner:ty) => {
        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <$inner as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <$inner as Type<Any>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok($name(<Option<$inner> as Decode<'r, Any>>::decode(value)?))
            }
        }

        impl<T: TryFrom<$inner>> TryFrom<$name> for Option<T> {
            type Error = T::Error;

            fn try_from(column: $name) -> Result<Option<T>, T::Error> {
                column.0.map(T::try_from).transpose()
            }
        }
    };
}

nullable!(NullableText, String);
nullable!(NullableInt, i64);
