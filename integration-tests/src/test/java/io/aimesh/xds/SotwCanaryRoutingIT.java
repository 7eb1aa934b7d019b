package io.aimesh.xds;

/** {@link CanaryRoutingIT} over state-of-the-world ADS. */
class SotwCanaryRoutingIT extends CanaryRoutingIT {
    @Override
    boolean delta() {
        return false;
    }
}
