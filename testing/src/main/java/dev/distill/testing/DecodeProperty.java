package dev.distill.testing;

/**
 * Sets {@code -Ddistill.decode} for a test that compares a model made op by op ({@code "ops"}) with the default one:
 * the property is read when a model is made.
 */
public final class DecodeProperty {
    private DecodeProperty() {}

    /** The property's value now (null: unset). */
    public static String get() {
        return System.getProperty("distill.decode");
    }

    /** Sets the property to {@code value}; null clears it. */
    public static void set(String value) {
        if (value == null) {
            System.clearProperty("distill.decode");
        } else {
            System.setProperty("distill.decode", value);
        }
    }
}
