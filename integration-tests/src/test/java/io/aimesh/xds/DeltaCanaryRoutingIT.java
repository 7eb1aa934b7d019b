package io.aimesh.xds;

/** {@link CanaryRoutingIT} over incremental (delta) ADS. */
class DeltaCanaryRoutingIT extends CanaryRoutingIT {
    @Override
    boolean delta() {
        return true;
    }
}
