package dev.bobbin.base;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The one place Bobbin's classes look up the {@link VarHandle}s of their own fields: a lookup that cannot
 * fail for a field that exists, so a failure is a programming error surfaced at class initialization.
 */
public final class VarHandles {
    private VarHandles() { }

    /**
     * The handle of field {@code name} of type {@code type} declared by {@code owner}, found with the
     * owner's {@code lookup} (pass {@code MethodHandles.lookup()} from the owner's code).
     *
     * @throws ExceptionInInitializerError if there is no such field
     */
    public static VarHandle field(MethodHandles.Lookup lookup, Class<?> owner, String name, Class<?> type) {
        try {
            return lookup.findVarHandle(owner, name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
