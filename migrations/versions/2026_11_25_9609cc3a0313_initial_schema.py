"""Initial schema: reference geography, categories, reports, photos and map cell counts.

Revision ID: 9609cc3a0313
Revises:
Create Date: 2026-11-25 09:44:32.095215
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '9609cc3a0313'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('group', sa.String(length=80), nullable=False),
    sa.Column('hint', sa.String(length=200), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False, comment='Public outputs show only category, status and a ~500 m location'),
    sa.Column('default_sector', sa.Enum('council', 'police', 'health', 'education', 'housing', 'fire', 'voluntary', name='sector', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('slug', name=op.f('uq_categories_slug'))
    )
    op.create_geospatial_table('city_boundaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=9), nullable=False, comment='ONS LAD code'),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('vintage', sa.String(length=7), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_city_boundaries')),
    sa.UniqueConstraint('code', name=op.f('uq_city_boundaries_code'))
    )
    with op.batch_alter_table('city_boundaries', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_city_boundaries_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})

    op.create_table('postcodes',
    sa.Column('postcode', sa.String(length=8), nullable=False, comment='Normalised, e.g. CV1 5RR'),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('lsoa21_code', sa.String(length=9), nullable=False),
    sa.PrimaryKeyConstraint('postcode', name=op.f('pk_postcodes'))
    )
    op.create_geospatial_table('wards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=9), nullable=False, comment='ONS GSS code, e.g. E05001218'),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('vintage', sa.String(length=7), nullable=False, comment='Boundary vintage, YYYY-MM'),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wards')),
    sa.UniqueConstraint('code', name=op.f('uq_wards_code'))
    )
    with op.batch_alter_table('wards', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_wards_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})

    op.create_table('report_cells',
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('cx', sa.Integer(), nullable=False),
    sa.Column('cy', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False, comment='Month, YYYYMM'),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('sum_lon', sa.Float(precision=53), nullable=False),
    sa.Column('sum_lat', sa.Float(precision=53), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_report_cells_category_id_categories')),
    sa.PrimaryKeyConstraint('level', 'cx', 'cy', 'period', 'category_id', 'status', 'ward_code', name=op.f('pk_report_cells'))
    )
    op.create_geospatial_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('new', 'acknowledged', 'in_progress', 'resolved', 'closed', name='report_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('public_lon', sa.Float(), nullable=False),
    sa.Column('public_lat', sa.Float(), nullable=False),
    sa.Column('public_geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('ward_code', sa.String(length=9), nullable=False),
    sa.Column('ward_vintage', sa.String(length=7), nullable=False),
    sa.Column('reporter_name', sa.String(length=100), nullable=True),
    sa.Column('show_name', sa.Boolean(), nullable=False),
    sa.Column('reporter_email', sa.String(length=254), nullable=False, comment='Never shown publicly'),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(description) BETWEEN 1 AND 5000', name=op.f('ck_reports_description_length')),
    sa.CheckConstraint('length(title) BETWEEN 1 AND 120', name=op.f('ck_reports_title_length')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_reports_category_id_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_reports_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_geospatial_index('idx_reports_public_geom', ['public_geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index('ix_reports_category_id', ['category_id'], unique=False)
        batch_op.create_index('ix_reports_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_reports_ward_code', ['ward_code'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.String(length=32), nullable=False, comment='Random hex token'),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_photos_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_report_id'))

    op.drop_table('photos')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_ward_code')
        batch_op.drop_index('ix_reports_created_at')
        batch_op.drop_index('ix_reports_category_id')
        batch_op.drop_geospatial_index('idx_reports_public_geom', postgresql_using='gist', column_name='public_geom')
        batch_op.drop_geospatial_index('idx_reports_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('reports')
    op.drop_table('report_cells')
    with op.batch_alter_table('wards', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_wards_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('wards')
    op.drop_table('postcodes')
    with op.batch_alter_table('city_boundaries', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_city_boundaries_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('city_boundaries')
    op.drop_table('categories')
