package dev.bobbin.base;

/**
 * A superclass that puts 128 bytes before a subclass's own fields, so that fields several threads write
 * (a lock word, a queue index, a counter) never share a cache line, or the adjacent line the processor
 * prefetches with it, with the object allocated before it.
 *
 * <p>Why. Bobbin's shared mutable objects are small and are allocated, and copied by the collector, next
 * to each other: the registry's stripes, one carrier's counters beside another's. Two of them on one
 * line turn every write into a cache miss for the other's users, and whether they do depends on where
 * the collector happened to copy them, so the same program ran at one throughput in one JVM and at half
 * of it in the next. The JDK pads its own such fields with {@code @Contended}, which it does not honour
 * outside {@code java.base} unless a JVM flag allows it.
 *
 * <p>How. HotSpot lays out a superclass's fields before its subclasses' and fills a gap left by a
 * superclass only with a field that fits it; here the int fills the 4 bytes after a 12-byte header and
 * the longs leave no gap. A class also needs padding after its fields, for the object allocated after
 * it: its final subclass declares sixteen long fields of its own (128 bytes), which come after its
 * superclass's fields. {@code LinePaddingTest} reads the JVM's field offsets of every padded class and
 * fails if a layout change left a shared word closer than that to either end.
 */
@SuppressWarnings("unused")
public abstract class LinePadding {
    private int p00;
    private long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16;

    protected LinePadding() { }
}
