-- Which outlets copy whom: the outlet pairs with the most syndicated copies
SELECT watch, copy_source, original_source, copies, texts, median_lag
FROM outlet_copies
ORDER BY copies DESC, watch, copy_source, original_source
LIMIT 50;
