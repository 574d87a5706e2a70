package dev.bobbin;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The records of some java.util.logging loggers (where {@code System.Logger} goes by default) while a test
 * case runs: captured from INFO up (or from a level given), kept off the console (the loggers' parent
 * handlers are off meanwhile), and the loggers restored by {@link #close}. Tests fail a case on a record
 * at WARNING or above that they do not expect, so a library's or Bobbin's complaint is neither printed nor
 * lost. Shared through this module's test jar (the integration tests use it too).
 */
public final class CapturedLogs implements AutoCloseable {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final List<Runnable> restores = new ArrayList<>();  // each holds its logger: one only weakly referenced could be collected with its handler

    public CapturedLogs(String... loggers) {
        this(Level.INFO, loggers);
    }

    /** Captures from {@code from} up (e.g. {@link Level#FINE}, where {@code System.Logger}'s DEBUG goes). */
    public CapturedLogs(Level from, String... loggers) {
        for (String name : loggers) {
            Logger logger = Logger.getLogger(name);
            boolean parents = logger.getUseParentHandlers();
            Level level = logger.getLevel();
            Handler handler = new Handler() {
                @Override public void publish(LogRecord r) { records.add(r); }
                @Override public void flush() { }
                @Override public void close() { }
            };
            handler.setLevel(Level.ALL);
            logger.addHandler(handler);
            logger.setUseParentHandlers(false);
            if (level == null || level.intValue() > from.intValue()) logger.setLevel(from);
            restores.add(() -> {
                logger.removeHandler(handler);
                logger.setUseParentHandlers(parents);
                logger.setLevel(level);
            });
        }
    }

    /** The records captured so far; live: a record removed from it is no longer among {@link #warnings}. */
    public List<LogRecord> records() {
        return records;
    }

    /** The records captured so far at WARNING or above. */
    public List<LogRecord> warnings() {
        return records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue()).toList();
    }

    /** {@code r} for a failure message: "LEVEL logger: message [parameters] (thrown)". */
    public static String describe(LogRecord r) {
        return r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage()
                + (r.getParameters() == null ? "" : " " + List.of(r.getParameters()))
                + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")");
    }

    /** Restores the loggers; the records stay readable. */
    @Override
    public void close() {
        for (int i = restores.size() - 1; i >= 0; i--) restores.get(i).run();
    }
}
