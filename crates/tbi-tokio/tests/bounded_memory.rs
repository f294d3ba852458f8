//! The live heap under floods, counted exactly by dhat's allocator (its own test binary:
//! the allocator is the process's).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_heap_stays_flat_under_floods() {
    let _count = tbi_test_support::memory::count_heap();
    tbi_test_support::scenarios::the_live_heap_stays_flat_under_floods::<tbi_tokio::Tokio>().await;
}
