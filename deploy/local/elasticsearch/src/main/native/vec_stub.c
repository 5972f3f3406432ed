/*
 * Stand-in for Elasticsearch's native "vec" library (SIMD vector scoring), which is not published
 * to Maven Central. ES loads it together with zstd when it initialises native access; if it is
 * missing, ALL native access is disabled, including zstd (needed by index.codec=best_compression).
 *
 * Reporting zero capabilities makes ES skip the native vector functions and use its Java
 * implementations instead, while zstd (the system's libzstd) works normally.
 */
int vec_caps(void) {
    return 0;
}
