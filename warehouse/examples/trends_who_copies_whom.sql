-- Which outlets copy whom: syndicated copies per (copying outlet, original outlet) pair
SELECT watch, copy_source, original_source, copies, texts, median_lag
FROM outlet_copies
ORDER BY copies DESC, watch, copy_source, original_source;
