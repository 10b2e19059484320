//! [`run_blocking`]: the one way CPU-heavy work (a route query, an index search) leaves the
//! async runtime, so that a slow query never stalls other connections.

use crate::problem::Problem;

/// Runs `work` on tokio's blocking pool. A panic in `work` becomes a 500 [`Problem`] (logged)
/// instead of taking the connection down.
pub async fn run_blocking<T, F>(work: F) -> Result<T, Problem>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|join_error| Problem::internal(format_args!("blocking task failed: {join_error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_value_and_maps_a_panic_to_500() {
        assert_eq!(run_blocking(|| 6 * 7).await.unwrap(), 42);
        let problem = run_blocking(|| -> u32 { panic!("boom") }).await.unwrap_err();
        assert_eq!(problem.status, 500);
    }
}
