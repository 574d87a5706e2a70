package dev.bobbin.scheduler;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The adaptive idle spin: grows while blocks are short, shrinks back once they are long. */
class IdleSpinTest {
    private static final long SHORT = Tunables.IDLE_SPIN_SHORT_BLOCK_NANOS / 10;
    private static final long LONG = Tunables.IDLE_SPIN_SHORT_BLOCK_NANOS * 10;

    @Test
    void shortBlocksDoubleTheBudgetUpToTheMaximum() {
        IdleSpin spin = new IdleSpin(100, 800);
        assertEquals(100, spin.budget());
        spin.parked(true, SHORT);
        assertEquals(200, spin.budget());
        spin.parked(true, SHORT);
        spin.parked(true, SHORT);
        assertEquals(800, spin.budget());
        spin.parked(true, SHORT);
        assertEquals(800, spin.budget(), "never beyond the maximum");
    }

    @Test
    void longBlocksHalveTheBudgetDownToTheBase() {
        IdleSpin spin = new IdleSpin(100, 800);
        for (int i = 0; i < 3; i++) spin.parked(true, SHORT);
        spin.parked(true, LONG);
        assertEquals(400, spin.budget());
        for (int i = 0; i < 5; i++) spin.parked(true, LONG);
        assertEquals(100, spin.budget(), "never below the base");
    }

    @Test
    void aWakeDuringTheSpinKeepsTheBudget() {
        IdleSpin spin = new IdleSpin(100, 800);
        spin.parked(true, SHORT);
        spin.parked(false, 0);
        spin.parked(false, LONG);
        assertEquals(200, spin.budget());
    }

    @Test
    void aCarrierThatMustNotSpinNeverStarts() {
        IdleSpin none = new IdleSpin(0, 0);
        for (int i = 0; i < 10; i++) none.parked(true, SHORT);
        assertEquals(0, none.budget());
    }

    @Test
    void rejectsABudgetRangeThatMakesNoSense() {
        assertThrows(IllegalArgumentException.class, () -> new IdleSpin(-1, 10));
        assertThrows(IllegalArgumentException.class, () -> new IdleSpin(10, 5));
    }
}
