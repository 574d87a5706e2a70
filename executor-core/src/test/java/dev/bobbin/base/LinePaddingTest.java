package dev.bobbin.base;

import jdk.internal.misc.Unsafe;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The JVM lays out each padded class as {@link LinePadding} intends: its shared words at least 128 bytes
 * after the object's start, and at least 128 bytes of the class's trailing longs after them. A JVM that
 * reordered the fields (a subclass's words placed in a superclass's gap, trailing longs moved before
 * the words) would leave the words on a neighbour's cache line again; this test then fails.
 */
class LinePaddingTest {
    private static final Unsafe UNSAFE = Unsafe.getUnsafe();

    @ParameterizedTest
    @CsvSource({
            "dev.bobbin.scheduler.FiberRegistry$Stripe, dev.bobbin.scheduler.FiberRegistry$StripeFields",
            "dev.bobbin.scheduler.queue.RunQueue, dev.bobbin.scheduler.queue.RunQueueFields",
            "dev.bobbin.scheduler.WakeHandshake, dev.bobbin.scheduler.WakeHandshakeFields",
            "dev.bobbin.scheduler.IdleCarriers, dev.bobbin.scheduler.IdleCarriersFields",
            "dev.bobbin.scheduler.queue.InjectionQueue$Tally, dev.bobbin.scheduler.queue.InjectionQueueTallyFields",
            "dev.bobbin.NamedFibers, dev.bobbin.NamedFibersCounter",
    })
    void sharedWordsSitBetween128BytesOfPaddingOnEachSide(String padded, String words) throws Exception {
        Class<?> paddedClass = Class.forName(padded);
        Class<?> wordsClass = Class.forName(words);
        assertSame(LinePadding.class, wordsClass.getSuperclass(), words + " extends LinePadding");
        assertSame(wordsClass, paddedClass.getSuperclass(), padded + " extends " + words);

        long firstWord = Long.MAX_VALUE, lastWordEnd = 0;
        for (Field f : instanceFields(wordsClass)) {
            long at = UNSAFE.objectFieldOffset(f);
            firstWord = Math.min(firstWord, at);
            lastWordEnd = Math.max(lastWordEnd, at + size(f));
        }
        assertTrue(firstWord != Long.MAX_VALUE, words + " declares the shared words");
        assertTrue(firstWord >= 128, words + "'s first word at offset " + firstWord + ": less than 128 bytes of padding before it");

        List<Long> trailing = new ArrayList<>();
        for (Field f : instanceFields(paddedClass)) {
            if (f.getName().matches("q\\d\\d") && f.getType() == long.class) trailing.add(UNSAFE.objectFieldOffset(f));
        }
        assertEquals(16, trailing.size(), padded + " declares sixteen trailing longs");
        long wordsEnd = lastWordEnd;
        long after = trailing.stream().filter(at -> at >= wordsEnd).count() * Long.BYTES;
        assertTrue(after >= 128, padded + ": only " + after + " bytes of padding after its words (which end at " + lastWordEnd + ")");
    }

    private static List<Field> instanceFields(Class<?> c) {
        List<Field> out = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) if (!Modifier.isStatic(f.getModifiers())) out.add(f);
        return out;
    }

    private static int size(Field f) {
        Class<?> t = f.getType();
        if (t == long.class || t == double.class) return 8;
        if (t == int.class || t == float.class) return 4;
        if (t == short.class || t == char.class) return 2;
        if (t == byte.class || t == boolean.class) return 1;
        return UNSAFE.addressSize() == 8 && !compressedOops() ? 8 : 4;
    }

    private static boolean compressedOops() {
        return UNSAFE.arrayIndexScale(Object[].class) == 4;
    }
}
